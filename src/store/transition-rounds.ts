import type { TaskTransition } from "../domain";
import type { TryNext } from "./ports/agent-rpc";

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

/** `a` then `b` as one transition, or null when `b` cannot apply after `a`. Pure. */
export function collapse(a: TaskTransition, b: TaskTransition): TaskTransition | null {
  if (!a.from.length || !b.from.includes(a.to)) return null;
  // The row's try after `a`: set by its patch, else the row's own (which a's guard, when given, pins).
  const tryAfterA = a.patch?.try_number;
  let guard = a.try_number;
  if (b.try_number !== undefined) {
    if (tryAfterA !== undefined) {
      if (b.try_number !== tryAfterA) return null;
    } else if (guard === undefined) guard = b.try_number;
    else if (guard !== b.try_number) return null;
  }
  // Each transition clears wait_reason unless its patch sets it: after both, only b's counts.
  const patch = { ...a.patch, ...b.patch };
  if (b.patch?.wait_reason === undefined) delete patch.wait_reason;
  return { id: a.id, from: a.from, to: b.to, ...(guard === undefined ? {} : { try_number: guard }), patch };
}

/** A chain's next task's moves in order (TryNext): none → scheduled → queued, and → running when it starts. */
export const nextMoves = (next: TryNext): TaskTransition[] => [next.scheduling, next.queued, ...(next.start ? [next.start] : [])];

/** `ts` one after another as one transition (collapse, pairwise), or null when one cannot follow the other. Pure. */
export function collapseAll(ts: readonly TaskTransition[]): TaskTransition | null {
  return ts.slice(1).reduce<TaskTransition | null>((a, b) => a && collapse(a, b), ts[0] ?? null);
}
