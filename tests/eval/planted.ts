import { CooBuilder, type Csr } from '../../shared/graph/csr.ts';

/**
 * Two disjoint DJ communities: DJs 0–9 play songs 0–19, DJs 10–19 play songs 20–39. DJ d clicks
 * the community songs s with (s + d) % 5 ≠ 0 (16 songs, ln counts in [ln 2, ln 5]); the other
 * 4 community songs are held out. Every song is clicked by 8 of its community's 10 DJs.
 */
export function plantedCommunities(): { click: Csr; clickTest: Csr; heldOutPairs: Int32Array } {
  const djs = 20;
  const songs = 40;
  const train = new CooBuilder(djs, songs);
  const test = new CooBuilder(djs, songs);
  const pairs: number[] = [];
  for (let d = 0; d < djs; d++) {
    const base = d < 10 ? 0 : 20;
    for (let s = base; s < base + 20; s++) {
      const value = Math.log(2 + ((s * 7 + d * 3) % 4));
      if ((s + d) % 5 === 0) {
        test.add(d, s, value);
        if (pairs.length < 2 * 30) pairs.push(d, s);
      } else train.add(d, s, value);
    }
  }
  return { click: train.toCsr(), clickTest: test.toCsr(), heldOutPairs: Int32Array.from(pairs) };
}

export function communityOf(song: number): number {
  return song < 20 ? 0 : 1;
}
