import { CooBuilder, type Csr } from '../../shared/graph/csr.ts';
import { Random } from '../../shared/util/random.ts';

/**
 * Planted nested partitions: `branching` = [b_0, b_1, …] splits the nodes into b_0 top groups,
 * each into b_1, … (finest last). Two nodes connect with probs[d], d = depth of their deepest
 * shared group (0 = none shared, last = same finest group). Labels come back finest first.
 */
export function plantedHierarchy(
  branching: number[],
  groupSize: number,
  probs: number[],
  seed: number,
): { graph: Csr; labels: Int32Array[] } {
  const depth = branching.length;
  if (probs.length !== depth + 1) throw new Error('probs needs one entry per shared depth 0..depth');
  const finest = branching.reduce((a, b) => a * b, 1);
  const n = finest * groupSize;
  // labelsTopDown[d][i]: node i's group at depth d (d = 0 coarsest).
  const labelsTopDown: Int32Array[] = [];
  let span = finest;
  for (let d = 0; d < depth; d++) {
    span /= branching[d];
    labelsTopDown.push(
      Int32Array.from({ length: n }, (_, i) => Math.floor(Math.floor(i / groupSize) / span)),
    );
  }
  const rng = new Random(seed);
  const coo = new CooBuilder(n, n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      let shared = 0;
      while (shared < depth && labelsTopDown[shared][i] === labelsTopDown[shared][j]) shared++;
      if (rng.next() < probs[shared]) {
        coo.add(i, j, 1);
        coo.add(j, i, 1);
      }
    }
  return { graph: coo.toCsr(), labels: labelsTopDown.reverse() };
}
