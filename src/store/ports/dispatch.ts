/**
 * DispatchStore: what handing a queued task instance to an executor needs — its DAG's file, and the retries
 * of failed launches (attempt counts, back-off, the failure in the try's log).
 */
import type { DispatchBackoff } from "../../domain";
import type { RecordLookups } from "./lookups";
import type { SchedulerStore } from "./scheduler";
import type { TaskLogStore } from "./task-log";

export interface DispatchStore extends Pick<RecordLookups, "getDag">, Pick<SchedulerStore, "applyTransitions">, TaskLogStore {
  /**
   * Counts one more failed launch of (tiId, tryNumber): inserts the attempts row with attempts=1 or
   * increments it, stores `error` as last_error and clears next_at. Returns the attempt count after it.
   */
  recordDispatchFailure(tiId: number, tryNumber: number, error: string, now: Date): Promise<number>;
  /**
   * In one transaction: sets next_at of (tiId, tryNumber)'s attempts row, and moves the task instance from
   * queued or scheduled (on that try) to `scheduled` with `note` (updated_at=now). Returns whether the task
   * instance moved (false: it was reaped, cleared or marked meanwhile; next_at is set anyway, harmlessly).
   */
  deferDispatch(tiId: number, tryNumber: number, nextAt: Date, note: string, now: Date): Promise<boolean>;
  /** Attempts rows whose next_at is after `now`: launches the scheduler must hold back until next_at. */
  listDispatchBackoffs(now: Date): Promise<DispatchBackoff[]>;
}
