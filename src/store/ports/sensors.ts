/**
 * SensorStore: what the control plane's sensor checks read and write. State changes go through
 * applyTransitions like every other (scheduled → deferred → success | failed | skipped); these methods keep
 * only the sensor's own bookkeeping (migration 0015): when the next check is due, when the try's first check
 * ran, how many checks were made. Writing them changes no state and leaves updated_at alone, so a waiting
 * sensor costs the tick nothing.
 */
import type { DagRunState, TaskState } from "../../domain";

/** A sensor whose check is due, with what the check needs from its run. */
export interface DueSensor {
  id: number;
  dag_run_id: number;
  team: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
  /** deferred: the control plane checks it; up_for_reschedule: a user check whose next try of its check is due. */
  state: "deferred" | "up_for_reschedule";
  /** The run's pinned DAG version (its spec holds the sensor). */
  version_id: number;
  logical_date: Date | null;
  run_queued_at: Date;
  sensor_started_at: Date;
  sensor_checks: number;
  next_check_at: Date;
}

export interface SensorWaitUpdate {
  id: number;
  try_number: number;
  next_check_at: Date;
  /** What the task instance shows while it waits (the next check, the timeout). */
  note: string;
}

/** How far a user check in mode reschedule got: when its first check ran, how many checks were made. */
export interface SensorProgress {
  started_at: Date | null;
  checks: number;
}

export interface RescheduleUpdate extends SensorProgress {
  id: number;
  try_number: number;
  started_at: Date;
  next_check_at: Date;
}

export interface SensorStore {
  /**
   * Readies the sensor bookkeeping of task instances still `scheduled` on these tries, before they move to
   * deferred: first check now, no checks made, `note`. Done before the state change, so a crash in between
   * leaves a scheduled row (redone next tick), never a deferred one with another try's numbers. Per input:
   * whether it applied.
   */
  prepareSensorWaits(items: readonly { id: number; try_number: number; note: string }[], now: Date): Promise<boolean[]>;
  /**
   * Deferred and up_for_reschedule sensors whose next check is due by `now`, earliest first, at most `limit`.
   * Reads the index on (state, next_check_at): the cost is the due rows, not the waiting ones. System-wide
   * (records carry their team).
   */
  listDueSensors(now: Date, limit: number): Promise<DueSensor[]>;
  /** The earliest next check of any deferred or up_for_reschedule sensor, or null when none waits. */
  nextSensorCheckAt(): Promise<Date | null>;
  /** A task instance's sensor bookkeeping, or null when there is no such task instance. */
  getSensorProgress(id: number): Promise<SensorProgress | null>;
  /**
   * After a user check's "not yet" in mode reschedule, before its try moves to up_for_reschedule: the
   * progress and the next check; only while that try still runs. Whether it applied.
   */
  recordReschedule(u: RescheduleUpdate): Promise<boolean>;
  /** After a "not yet": one more check counted, the next one at next_check_at, the note; only while still deferred on that try. */
  recordSensorChecks(updates: readonly SensorWaitUpdate[]): Promise<boolean[]>;
  /**
   * For external task sensors: the state of another DAG's run in `team` whose logical_date is `logicalDate`,
   * or of its task `taskId` when given (one state per task instance: a mapped task has several); empty when
   * there is no such run or task.
   */
  externalStates(team: string, dagId: string, logicalDate: Date, taskId: string | null): Promise<(TaskState | DagRunState)[]>;
}
