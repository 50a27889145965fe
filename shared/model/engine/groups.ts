/** A list of members per group (children of a cluster), CSR-style. */
export interface Groups {
  start: Int32Array;
  items: Int32Array;
}

/** Members of each group from a member → group map, ascending within a group. */
export function groupsOf(groupOf: Int32Array, groups: number): Groups {
  const start = new Int32Array(groups + 1);
  for (const g of groupOf) start[g + 1]++;
  for (let g = 0; g < groups; g++) start[g + 1] += start[g];
  const fill = start.slice(0, groups);
  const items = new Int32Array(groupOf.length);
  for (let i = 0; i < groupOf.length; i++) items[fill[groupOf[i]]++] = i;
  return { start, items };
}
