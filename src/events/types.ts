/** Lifecycle events: what happened to runs and task instances, as the SSE stream and subscribers see it. */
import type { DagRunState, TaskState } from "../domain";

interface Base {
  /**
   * The SSE `id:`. With an event log (the server: SQLite in Lite, the table shared by every Pro replica) it is
   * the log's id, increasing per deployment, so a client resumes with Last-Event-ID on any replica; a bare
   * EventHub stamps its own increasing ids.
   */
  id: number;
  /** ISO 8601 time the change was recorded. */
  time: string;
  /** The team that owns the run: a stream shows a caller only the events of the team it acts in. */
  team: string;
  dag_id: string;
  run_id: string;
}

export type LeoflowEvent =
  | (Base & { type: "dag_run.created"; state: DagRunState })
  /** queued → running. */
  | (Base & { type: "dag_run.started"; state: "running" })
  /** → success or failed (orphaned runs included, with their note). */
  | (Base & { type: "dag_run.finished"; state: DagRunState; note: string | null })
  /** Any other run change (a cleared run going back to queued). */
  | (Base & { type: "dag_run.state_changed"; state: DagRunState; note: string | null })
  /** `map_index`: which instance of a mapped task (-1 for an unmapped one), as Airflow names a task instance. */
  | (Base & {
      type: "task_instance.state_changed";
      task_id: string;
      map_index: number;
      try_number: number | null;
      state: TaskState;
      note: string | null;
    })
  /** A task instance whose launch failed on every allowed attempt and was failed as `dispatch_failed`. */
  | (Base & { type: "task_instance.dead_lettered"; task_id: string; try_number: number; attempts: number; error: string })
  /** A run not finished by its DAG's deadline (docs/callbacks.md); `deadline` is when it was due. */
  | (Base & { type: "dag_run.deadline_missed"; deadline: string })
  /** A callback that failed: `callback` names it (e.g. "on_failure_callback[0]"), task_id is null for the DAG's own. */
  | (Base & { type: "callback.failed"; task_id: string | null; callback: string; error: string })
  /**
   * Pro: a replica became the scheduler leader. The cluster's, not a team's or a run's: every team's stream carries
   * it (a filter on dag_id or run_id leaves it out). `leader` names it as the webhook of the same type does: its host,
   * pid and the URL agents reach it at (`vm-2 pid 4242 http://10.0.0.7:8080`).
   */
  | {
      id: number;
      time: string;
      type: "scheduler.leader_changed";
      leader: string;
      team?: undefined;
      dag_id?: undefined;
      run_id?: undefined;
    };

export type LeoflowEventType = LeoflowEvent["type"];

/** An event before the hub stamps it; `time` defaults to when it is emitted. */
export type NewEvent = LeoflowEvent extends infer E ? (E extends LeoflowEvent ? Omit<E, "id" | "time"> & { time?: string } : never) : never;

/** Where producers send events. Never blocks and never throws. */
export interface EventSink {
  emit(event: NewEvent): void;
  /**
   * False while no one would receive an event, so producers may skip building them (and the lookups for
   * their names). Absent: always wanted (an event log keeps events for readers that come later).
   */
  readonly wanted?: boolean;
}

/** Where a stream replays from before going live: the event log, read in id order. */
export interface EventHistory {
  /** Events with id > afterId, in id order, at most `limit`. */
  readAfter(afterId: number, limit: number): Promise<LeoflowEvent[]>;
  /** The newest id (0 when empty): where a stream without Last-Event-ID starts. */
  lastId(): Promise<number>;
}

/** A sink that drops everything (tests, or no subscribers wired). */
export const nullEventSink: EventSink = { emit() {} };
