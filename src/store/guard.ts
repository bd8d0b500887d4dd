/**
 * The state machine at the door: every task-instance write is checked against canTransition before it
 * reaches a database, so an illegal transition is an error in every store, never a silent write.
 */
import { IllegalTransitionError, canTransition } from "../domain";
import type { TaskTransition } from "./store";

/** Throws IllegalTransitionError for the first transition whose `from` states may not move to `to`. */
export function assertLegalTransitions(transitions: readonly TaskTransition[]): void {
  for (const t of transitions)
    for (const from of t.from)
      if (from !== t.to && !canTransition(from, t.to)) throw new IllegalTransitionError(from, t.to);
}
