/**
 * AgentRpcStore: what the agent-facing RPC serves a running try — its task spec and context, XCom, variables
 * and connections, heartbeats, log lines and its reported state.
 */
import type { DagRunRecord, LogLineRecord, TaskInstanceRecord, TaskTransition, XComKey, XComRecord } from "../../domain";
import type { VariablesApiStore } from "./api-variables";
import type { RecordLookups } from "./lookups";
import type { SchedulerStore } from "./scheduler";
import type { TaskLogStore } from "./task-log";
import type { MappingStore } from "./mapping";
import type { SensorStore } from "./sensors";

export interface AgentRpcStore
  extends Pick<RecordLookups, "getDagHead" | "getDagVersion" | "getDagRunById" | "getTaskInstanceById">,
    Pick<SchedulerStore, "applyTransitions">,
    Pick<TaskLogStore, "appendLogs">,
    Pick<MappingStore, "listMappedXComs">,
    Pick<SensorStore, "getSensorProgress" | "recordReschedule">,
    Pick<VariablesApiStore, "getVariable" | "getConnection"> {
  /**
   * Register's write: the try an agent token names moves queued → running (a rescheduled sensor keeps its first
   * start_date). ReportState's, finishTry: running → the outcome, ended now (`final`: a failure that spends no
   * retry, max_tries drops to the tries made). Each is one statement with the read that answers the task
   * instance as it is afterwards, so an agent's call costs one round trip; it applies only to that task (id,
   * dag, run and task ids) on that try in the state it leaves, writing the webhook outbox row and event any
   * transition has. null when no task instance has that id.
   */
  startTry(start: TryStart, now: Date): Promise<TryStartWrite | null>;
  /**
   * With `next` (a chain's next task, scheduler/dispatch-step.ts chainHandOff), its move into scheduled and
   * then queued (and running, with its `start`) is written in the same transaction, each move with its outbox
   * row, and only when this end applies as success; `nextApplied` says whether its last move applied. With `lines`, the try's last log lines
   * are stored in the same transaction when this end applies (one write for an agent's last batch and its end).
   */
  finishTry(finish: TryFinish, now: Date): Promise<TryWrite | null>;
  /**
   * AppendLogs' write: the lines of the try an agent token names, stored only while that try is live (queued or
   * running, the token's task), in one statement with that check; lines already stored (a resend) are kept.
   * False when the try is not live: nothing is written.
   */
  appendTryLogs(t: TryIdentity, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<boolean>;
  /**
   * PushXCom's write: the value, stored only while the try an agent token names is live (queued or running, the
   * token's task), with that check in the same statement or transaction. On Postgres the task instance is held
   * FOR SHARE: a clear waits for this write and then deletes the value with the task's other XComs, so a cleared
   * try's value never outlives the clear. False when the try is not live: nothing is written. TooLargeError
   * when the value's JSON exceeds the store's xcom size limit.
   */
  pushTryXCom(t: TryIdentity, key: XComKey, value: unknown, now: Date): Promise<boolean>;
  /** Records an agent heartbeat for this try if the instance is still running it; false otherwise. */
  heartbeat(tiId: number, tryNumber: number, now: Date): Promise<boolean>;
  /** Upserts one value. TooLargeError when its JSON exceeds the store's xcom size limit. */
  setXCom(key: XComKey, value: unknown, now: Date): Promise<void>;
  getXCom(key: XComKey): Promise<XComRecord | null>;
}

/** The try an agent token names. */
export interface TryIdentity {
  id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
}

/** Who registers: the try, and where its agent runs. */
export interface TryStart extends TryIdentity {
  hostname: string | null;
  pid: number | null;
}

/** What the agent reports: the try's outcome and its note. */
export interface TryFinish extends TryIdentity {
  to: "success" | "failed" | "skipped";
  note: string | null;
  /** A failure no retry can change (a sensor's timeout). */
  final: boolean;
  /** A chain's next task, dispatched with this end when it applies as success (finishTry). */
  next?: TryNext;
  /**
   * The try's last log lines (an agent's final batch), stored in the same write when this end applies: a resend
   * or a report the control plane no longer takes stores none, as AppendLogs refuses lines of an ended try.
   */
  lines?: TryLines;
}

/** Log lines of a try numbered from `firstSeq`, as AppendLogs takes them. */
export interface TryLines {
  firstSeq: number;
  lines: Omit<LogLineRecord, "seq">[];
}

/**
 * A task instance's move none → scheduled, then scheduled → queued, and with `start` on into running: the server
 * starts it with this end when a warm subprocess agent takes it at once (DispatchStep.chainHandOff). Each
 * conditional like every transition.
 */
export interface TryNext {
  scheduling: TaskTransition;
  queued: TaskTransition;
  start?: TaskTransition;
}

/**
 * startTry's answer: when the task instance is running afterwards (its start applied, or the server started it
 * with its upstream's end, TryNext), with its run and its DAG's file (null: the DAG is gone), read in the same
 * statement: what Register builds the try's spec from.
 */
export interface TryStartWrite extends TryWrite {
  run?: DagRunRecord;
  dagFileloc?: string | null;
}

export interface TryWrite {
  /** This call moved the try. */
  applied: boolean;
  /** The row after the statement: as written when applied; otherwise as it was (another try, state or task). */
  ti: TaskInstanceRecord;
  /** finishTry with `next`: the next task's last move (into queued, or running) applied. */
  nextApplied?: boolean;
}
