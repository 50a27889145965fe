import { describe, expect, it } from 'vitest';
import { CooBuilder, type Csr, gcnNormalize } from '../../shared/graph/csr.ts';
import { fitEase, invertSpd } from '../../training/baselines/ease.ts';
import { fitIals } from '../../training/baselines/ials.ts';
import { innerSplit, tuneOnInnerSplit } from '../../training/baselines/innerSplit.ts';
import { fitPopularity } from '../../training/baselines/popularity.ts';
import type { Recommender } from '../../training/baselines/recommender.ts';
import { fitRp3beta } from '../../training/baselines/rp3beta.ts';
import { fitSongGraph } from '../../training/baselines/songGraph.ts';
import { fitStrongBaselines } from '../../training/baselines/strong.ts';
import { evaluateRecommendation } from '../../training/eval/recommendation.ts';
import { topK } from '../../training/eval/metrics.ts';
import { communityOf, plantedCommunities } from '../eval/planted.ts';

function pairs(m: Csr): Set<string> {
  const out = new Set<string>();
  for (let d = 0; d < m.rows; d++) for (let p = m.indptr[d]; p < m.indptr[d + 1]; p++) out.add(`${d},${m.indices[p]}`);
  return out;
}

/** Songs of one community linked to each other (weight 1 + (i + j) % 3): what the set graph would show. */
function plantedGraphs() {
  const coo = new CooBuilder(40, 40);
  for (let i = 0; i < 40; i++)
    for (let j = 0; j < 40; j++) if (i !== j && communityOf(i) === communityOf(j)) coo.add(i, j, 1 + ((i + j) % 3));
  const songSong = coo.toCsr();
  return { songSong, songSongNorm: gcnNormalize(songSong) };
}

const planted = plantedCommunities();
const fits: Record<string, (click: Csr) => Recommender> = {
  ease: (c) => fitEase(c, { lambda: 5 }),
  rp3beta: (c) => fitRp3beta(c, { alpha: 1, beta: 0.5 }),
  ials: (c) => fitIals(c, { factors: 8, alpha: 4, reg: 1 }),
  songgraph: (c) => fitSongGraph(c, plantedGraphs()),
};

function ndcg(r: Recommender): number {
  return evaluateRecommendation(planted, { model: r, baselines: [] }, { originalBaselines: false }).model!['ndcg@20'];
}

describe('inner split', () => {
  it('splits only the training clicks: validation and train partition them, the test hold-out is untouched', () => {
    const { train, validation } = innerSplit(planted.click, 0.25, 3);
    const all = pairs(planted.click);
    const test = pairs(planted.clickTest);
    const v = pairs(validation);
    const t = pairs(train);
    for (const p of v) {
      expect(all.has(p)).toBe(true);
      expect(test.has(p)).toBe(false);
      expect(t.has(p)).toBe(false);
    }
    for (const p of t) expect(all.has(p)).toBe(true);
    expect(v.size + t.size).toBe(all.size);
    expect(v.size).toBe(20 * 4); // 16 training songs per DJ, a quarter each
  });

  it('tunes on the split and refits the winner on all training clicks, never seeing clickTest', () => {
    const test = pairs(planted.clickTest);
    const seen: Csr[] = [];
    const tuned = tuneOnInnerSplit(planted.click, [{ beta: 0 }, { beta: 0.5 }], (c, p) => {
      seen.push(c);
      for (const pair of pairs(c)) expect(test.has(pair)).toBe(false);
      return fitRp3beta(c, p);
    });
    expect(seen).toHaveLength(3);
    expect(seen[2]).toBe(planted.click);
    expect(tuned.grid.map((g) => g.params)).toEqual([{ beta: 0 }, { beta: 0.5 }]);
    expect(tuned.params).toEqual(tuned.grid.reduce((a, b) => (b.ndcg > a.ndcg ? b : a)).params);
  });
});

describe('EASE closed form', () => {
  it('inverts a symmetric positive definite matrix', () => {
    const a = Float64Array.from([4, 2, 2, 3]);
    invertSpd(a, 2);
    expect(Array.from(a).map((x) => x * 8)).toEqual([3, -2, -2, 4].map((x) => expect.closeTo(x, 12)));
  });

  it('matches B = I − P diagMat(1/diag P) computed by hand on a 5 × 4 matrix', () => {
    // DJs 0–2 play songs {0,1}, {0}, {0,1}; DJs 3–4 play {2,3}, {3}. λ = 1:
    // XᵀX + I = [[4,2],[2,3]] ⊕ [[2,1],[1,3]], P = [[3,−2],[−2,4]]/8 ⊕ [[3,−1],[−1,2]]/5,
    // B_01 = 2/8 ÷ 4/8 = 1/2, B_10 = 2/8 ÷ 3/8 = 2/3, B_23 = 1/5 ÷ 2/5 = 1/2, B_32 = 1/5 ÷ 3/5 = 1/3.
    const coo = new CooBuilder(5, 4);
    for (const [d, s] of [[0, 0], [0, 1], [1, 0], [2, 0], [2, 1], [3, 2], [3, 3], [4, 3]]) coo.add(d, s, Math.log(2 + d));
    const ease = fitEase(coo.toCsr(), { lambda: 1 });
    const out = new Float32Array(4);
    const want = [
      [2 / 3, 1 / 2, 0, 0], // x = {0, 1}: B_10, B_01 (diagonal 0)
      [0, 1 / 2, 0, 0],
      [2 / 3, 1 / 2, 0, 0],
      [0, 0, 1 / 3, 1 / 2],
      [0, 0, 1 / 3, 0],
    ];
    for (let d = 0; d < 5; d++) {
      ease.scoreDj(d, out);
      want[d].forEach((w, j) => expect(out[j]).toBeCloseTo(w, 6));
    }
    expect(Array.from(ease.diagonal)).toEqual([3 / 8, 4 / 8, 3 / 5, 2 / 5].map((x) => expect.closeTo(x, 12)));
  });
});

describe.each(Object.keys(fits))('%s on the planted corpus', (name) => {
  const fit = fits[name];

  it('beats popularity on NDCG@20', () => {
    expect(ndcg(fit(planted.click))).toBeGreaterThan(ndcg(fitPopularity(planted.click)) + 0.2);
  });

  it('recommends unseen songs of the DJ’s own community first', () => {
    const r = fit(planted.click);
    const out = new Float32Array(40);
    const training = new Uint8Array(40);
    for (let d = 0; d < 20; d++) {
      r.scoreDj(d, out);
      training.fill(0);
      for (let p = planted.click.indptr[d]; p < planted.click.indptr[d + 1]; p++) training[planted.click.indices[p]] = 1;
      const top = topK(out, 4, training);
      expect(top).toHaveLength(4);
      for (const j of top) {
        expect(training[j]).toBe(0);
        expect(communityOf(j)).toBe(d < 10 ? 0 : 1);
      }
    }
  });

  it('is deterministic', () => {
    const a = new Float32Array(40);
    const b = new Float32Array(40);
    const ra = fit(planted.click);
    const rb = fit(planted.click);
    for (let d = 0; d < 20; d += 7) {
      ra.scoreDj(d, a);
      rb.scoreDj(d, b);
      expect(Array.from(a)).toEqual(Array.from(b));
    }
  });
});

describe('fitStrongBaselines', () => {
  it('tunes every strong baseline on the inner split and reports its settings', () => {
    const lines: string[] = [];
    const { recommenders, params } = fitStrongBaselines({ click: planted.click, ...plantedGraphs() }, { log: (l) => lines.push(l) });
    expect(recommenders.map((r) => r.name)).toEqual(['ease', 'rp3beta', 'ials', 'songgraph']);
    expect(Object.keys(params)).toEqual(['ease', 'rp3beta', 'ials', 'songgraph']);
    expect(lines[0]).toMatch(/^ease: tuned \{"lambda":\d+\} \(inner NDCG@20 0\.\d{4}; 7 settings/);
  });
});
