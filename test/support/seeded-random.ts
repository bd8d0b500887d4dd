/**
 * A small seeded generator (mulberry32) for the differential and fuzz tests, so a failing case can be replayed
 * from its seed.
 *
 * @example const r = seededRandom(7); r.int(10); r.pick(["a", "b"]); r.chance(0.2)
 */
export function seededRandom(seed: number) {
  let a = seed | 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(list: readonly T[]): T => list[int(list.length)]!, chance: (p: number) => next() < p };
}

export type SeededRandom = ReturnType<typeof seededRandom>;
