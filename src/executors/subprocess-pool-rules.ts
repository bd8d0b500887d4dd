/**
 * The warm agent pool's decisions, pure (`now` is an argument): when to start a replacement after agents died
 * before they were ready (a broken binary must not become a fork loop), and which idle agents started for a
 * burst to retire once the burst is over.
 */

/** Wait before starting an agent after `failures` in a row died before saying ready: 0, 0.25 s, 0.5 s… 30 s. */
export function restartDelayMs(failures: number): number {
  return failures <= 0 ? 0 : Math.min(30_000, 250 * 2 ** (failures - 1));
}

/**
 * Idle agents to retire: while there are more agents than the pool's size, the ones idle at least `idleMs`,
 * longest idle first. A burst (a fan-out wider than the pool) keeps its agents while tries keep coming.
 *
 * @example agentsToRetire([{ id: 1, idleSince: 0 }, { id: 2, idleSince: 9_000 }], 3, 2, 10_000, 5_000) // [1]
 */
export function agentsToRetire(
  idle: readonly { id: number; idleSince: number }[],
  total: number,
  size: number,
  now: number,
  idleMs: number,
): number[] {
  const excess = total - size;
  if (excess <= 0) return [];
  return idle
    .filter((a) => now - a.idleSince >= idleMs)
    .sort((a, b) => a.idleSince - b.idleSince)
    .slice(0, excess)
    .map((a) => a.id);
}
