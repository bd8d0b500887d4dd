/**
 * Positions of a batch whose changes are alike (the same key), as groups of `min` or more and the rest, each in
 * batch order: both stores write such a group as one UPDATE over its ids (a first sweep makes thousands of
 * equal changes) and the rest as before (postgres/same-changes.ts for transitions, sqlite/run-states.ts for
 * run states). The caller makes sure no row is named twice among `positions` (transition-rounds.ts).
 *
 * @example groupAlike([0, 1, 2], (i) => ["a", "b", "a"][i], 2) // { groups: [[0, 2]], rest: [1] }
 */
export function groupAlike(
  positions: readonly number[],
  keyOf: (position: number) => string,
  min: number,
): { groups: number[][]; rest: number[] } {
  if (positions.length < min) return { groups: [], rest: [...positions] };
  const byKey = new Map<string, number[]>();
  for (const i of positions) {
    const key = keyOf(i);
    const list = byKey.get(key);
    if (list) list.push(i);
    else byKey.set(key, [i]);
  }
  const groups: number[][] = [];
  const grouped = new Set<number>();
  for (const list of byKey.values())
    if (list.length >= min) {
      groups.push(list);
      for (const i of list) grouped.add(i);
    }
  return { groups, rest: grouped.size ? positions.filter((i) => !grouped.has(i)) : [...positions] };
}
