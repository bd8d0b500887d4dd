/** InlineTryStore: the end of an inline task's try (executors/inline-runner.ts) as one write. */
import type { TaskTransition, XComKey } from "../../domain";
import type { LogBatch } from "./task-log";

/** One try's end: its outcome, its lines not yet stored, and its return_value when it has one. */
export interface InlineTryEnd {
  /** running → success | failed, conditional like every transition. */
  transition: TaskTransition;
  lines: LogBatch | null;
  xcom: { key: XComKey; value: unknown } | null;
  /**
   * The start of the task instance taking this try's inline slot (scheduled → running, conditional like every
   * transition), written in the same transaction and applied only if this end applied: a freed slot passes
   * on without a write of its own, and never to a second task when the end lost a race (a mark, a clear).
   */
  next?: TaskTransition;
  /** The next task's move into scheduled (none → scheduled), written just before `next`, which applies only if this does. */
  nextScheduling?: TaskTransition;
  /** `next` applies only when this end applies as success (a chain's next task), not just applies. */
  nextAfterSuccess?: boolean;
  /**
   * What the try is written as if the store refuses its XCom (domain failedTryState: up_for_retry while it has
   * retries left, so no reader sees a try that will be retried as failed); absent: failed.
   */
  failedAs?: "failed" | "up_for_retry";
}

/**
 * Whether the (possibly turned) transition applied, the error refusing the XCom when it was refused, and
 * whether the end's `next` applied (false without one).
 */
export interface InlineTryEndResult {
  applied: boolean;
  refused: Error | null;
  nextApplied: boolean;
}

export interface InlineTryStore {
  /**
   * How many batches of ends the inline runner may have on their way at once (default 1): more only where the
   * store pipelines them (Postgres); SQLite writes each in one synchronous transaction, so more buys nothing.
   */
  readonly inlineEndsInFlight?: number;
  /**
   * The ends of many tries in one transaction (one statement on Postgres when every try is named once): each
   * XCom, each try's lines and each transition with its outbox rows, all stored or none. An XCom the store
   * refuses (setXCom's error) is not stored and turns its transition into its failedAs (failed, or up_for_retry
   * with retries left) with the error as its note:
   * no success without its XCom. Lines and stored XComs are written whether or not the transition applies
   * (a lost race: a clear or a mark won), as separate writes always did: the lines are what the try did, and
   * a later try of the same task overwrites the XCom. Each end's `next` (after its `nextScheduling`) is applied
   * after the ends, when its end applied (as failed too, the slot being free either way, unless
   * `nextAfterSuccess`). An illegal transition writes nothing.
   */
  finishInlineTries(ends: readonly InlineTryEnd[], now: Date): Promise<InlineTryEndResult[]>;
}
