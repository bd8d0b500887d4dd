/**
 * Splits a batch of row changes into rounds in which every id appears once, keeping order: one UPDATE
 * cannot apply two changes to the same row (Postgres would pick one join row arbitrarily), and outbox rows
 * built from a row's new state must be built after each of its changes, while the Store's contract is that
 * later changes of a batch see the earlier ones. Almost every batch is a single round.
 *
 * @example roundsOf([{ id: 1 }, { id: 2 }, { id: 1 }]) // [[0, 1], [2]]
 */
export function roundsOf(changes: readonly { id: number }[]): number[][] {
  const rounds: number[][] = [];
  const seen = new Map<number, number>();
  changes.forEach((t, i) => {
    const round = seen.get(t.id) ?? 0;
    seen.set(t.id, round + 1);
    (rounds[round] ??= []).push(i);
  });
  return rounds;
}
