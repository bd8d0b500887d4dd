/**
 * The state machine at the door: guardedStore checks every task-instance write against canTransition before
 * it reaches a database, so an illegal transition is an IllegalTransitionError in every store, never a
 * silent write. It is the one place the check lives: openStore puts it in front of both SqliteStore and
 * PostgresStore, which keep only their SQL.
 *
 * @example const store = guardedStore(new SqliteStore({ path: ":memory:" }));
 */
import { IllegalTransitionError, canTransition, type TaskTransition } from "../domain";
import { overriding } from "./decorate";
import type { Store } from "./store";

/** The store, refusing (with nothing written) any batch that holds an illegal task-instance transition. */
export function guardedStore(inner: Store): Store {
  return overriding(inner, {
    async applyTransitions(transitions, now) {
      assertLegalTransitions(transitions);
      return inner.applyTransitions(transitions, now);
    },
    async startTry(start, now) {
      assertLegalTransitions([{ id: start.id, from: ["queued"], to: "running" }]);
      return inner.startTry(start, now);
    },
    async finishTry(finish, now) {
      assertLegalTransitions([{ id: finish.id, from: ["running"], to: finish.to }]);
      return inner.finishTry(finish, now);
    },
    async finishInlineTries(ends, now) {
      // A refused XCom turns a transition into its failedAs (failed or up_for_retry): checking `to` as given and as that covers both.
      assertLegalTransitions(
        ends.flatMap((e) => [
          e.transition,
          { ...e.transition, to: e.failedAs ?? ("failed" as const) },
          ...(e.nextScheduling ? [e.nextScheduling] : []),
          ...(e.next ? [e.next] : []),
        ]),
      );
      return inner.finishInlineTries(ends, now);
    },
    async applyOperatorChange(change, now) {
      assertLegalTransitions(change.transitions ?? []);
      assertLegalTransitions((change.clears ?? []).map((c) => ({ id: c.id, from: [c.from], to: "none" })));
      return inner.applyOperatorChange(change, now);
    },
    async reapTaskInstances(reaps, now) {
      assertLegalTransitions(reaps.map((r) => ({ id: r.id, from: [r.from], to: r.to })));
      return inner.reapTaskInstances(reaps, now);
    },
  });
}

/** Throws IllegalTransitionError for the first transition whose `from` states may not move to `to`. */
function assertLegalTransitions(transitions: readonly TaskTransition[]): void {
  for (const t of transitions)
    for (const from of t.from) if (from !== t.to && !canTransition(from, t.to)) throw new IllegalTransitionError(from, t.to);
}
