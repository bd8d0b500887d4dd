/**
 * The Store interface: the only door to data. SqliteStore and PostgresStore implement it and pass the same
 * contract suite (test/store/contract.ts). Rules every implementation keeps:
 * - state changes are conditional (`… WHERE state IN (from)`), so a lost race returns false, never clobbers;
 * - every multi-row change is one transaction;
 * - times are JS Dates (UTC) in and out; JSON columns are parsed objects in and out.
 */
import type { DagSpec } from "../domain";
import type { DagRunState, TaskState } from "../domain";

export type RunType = "manual" | "scheduled" | "backfill";

export interface DagRecord {
  dag_id: string;
  /** Absolute path of the file that defines the DAG. */
  fileloc: string;
  /** The current version's id; runs pin the version they were created with. */
  version_id: number;
  spec: DagSpec;
  is_paused: boolean;
  /** False once the file that defined it is gone or no longer defines it. */
  is_active: boolean;
  last_parsed_at: Date;
}

export interface ImportErrorRecord {
  id: number;
  filename: string;
  /** Field path and reason, one problem per line. */
  stack_trace: string;
  timestamp: Date;
}

export interface DagRunRecord {
  id: number;
  dag_id: string;
  run_id: string;
  run_type: RunType;
  state: DagRunState;
  logical_date: Date | null;
  data_interval_start: Date | null;
  data_interval_end: Date | null;
  conf: Record<string, unknown>;
  version_id: number;
  queued_at: Date;
  start_date: Date | null;
  end_date: Date | null;
  note: string | null;
}

export interface TaskInstanceRecord {
  id: number;
  dag_run_id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  state: TaskState;
  /** Starts at 1; a retry increments it. */
  try_number: number;
  /** Retries allowed: a failure with try_number <= max_tries is retried. */
  max_tries: number;
  operator: string;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  queued_at: Date | null;
  start_date: Date | null;
  end_date: Date | null;
  last_heartbeat: Date | null;
  hostname: string | null;
  pid: number | null;
  executor: string | null;
  /** Why it is where it is (e.g. waiting for a pool slot, agent_lost, dispatch_failed: …). */
  note: string | null;
  updated_at: Date;
}

/** Fields a transition may set alongside the state. `null` clears a field; absent leaves it. */
export type TaskInstancePatch = Partial<
  Pick<
    TaskInstanceRecord,
    "try_number" | "queued_at" | "start_date" | "end_date" | "last_heartbeat" | "hostname" | "pid" | "executor" | "note"
  >
>;

export interface TaskTransition {
  id: number;
  /** The states the row must be in for the change to apply. */
  from: TaskState[];
  to: TaskState;
  patch?: TaskInstancePatch;
  /** When set, the row must also be on this try (agent reports from an older try are ignored). */
  try_number?: number;
}

export interface NewDagRun {
  dag_id: string;
  run_id: string;
  run_type: RunType;
  logical_date: Date | null;
  data_interval_start: Date | null;
  data_interval_end: Date | null;
  conf: Record<string, unknown>;
  version_id: number;
  /** The run starts queued; the scheduler moves it to running. */
  queued_at: Date;
  /** Free text from the user who triggered it (Airflow's dag run note). */
  note?: string | null;
  /** One task instance per task of the pinned version, all in state none, try 1. */
  tasks: { task_id: string; operator: string; max_tries: number; pool: string; pool_slots: number; priority_weight: number }[];
}

/** What the planner needs of one active run: the run and its task instances. */
export interface RunSnapshot {
  run: DagRunRecord;
  tis: TaskInstanceRecord[];
}

export interface ListOptions {
  limit?: number;
  offset?: number;
  /** Field name, `-` prefix for descending (Airflow's order_by). */
  order_by?: string;
}

export interface DagRunFilter extends ListOptions {
  dag_id?: string;
  state?: DagRunState[];
}

export interface LogLineRecord {
  seq: number;
  timestamp: Date;
  stream: string;
  line: string;
}

export interface XComRecord {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  key: string;
  /** Parsed JSON. */
  value: unknown;
  timestamp: Date;
}

export interface XComKey {
  dag_id: string;
  run_id: string;
  task_id: string;
  key: string;
  map_index?: number;
}

export interface UserRecord {
  username: string;
  /** Bun.password hash (argon2id). */
  password_hash: string;
  role: "admin" | "op" | "user" | "viewer";
  created_at: Date;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface Store {
  /** Applies pending numbered migrations; safe to call at every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // --- DAGs -------------------------------------------------------------------------------------------
  /**
   * Records a parsed DAG. A new spec (by content) creates a new version; an unchanged one only bumps
   * last_parsed_at. A DAG seen for the first time is paused iff `pausedOnCreate`.
   */
  upsertDag(input: { spec: DagSpec; fileloc: string; pausedOnCreate: boolean; now: Date }): Promise<DagRecord>;
  getDag(dagId: string): Promise<DagRecord | null>;
  listDags(opts?: ListOptions & { only_active?: boolean; paused?: boolean; tags?: string[] }): Promise<Page<DagRecord>>;
  setDagPaused(dagId: string, paused: boolean): Promise<DagRecord | null>;
  /** Marks inactive every DAG of `fileloc` not in `keepDagIds` (file changed or deleted). */
  deactivateDagsOfFile(fileloc: string, keepDagIds: string[]): Promise<void>;
  getDagVersion(versionId: number): Promise<DagSpec | null>;

  replaceImportErrors(filename: string, errors: string[], now: Date): Promise<void>;
  listImportErrors(opts?: ListOptions): Promise<Page<ImportErrorRecord>>;

  // --- Runs -------------------------------------------------------------------------------------------
  /** Inserts the run and all its task instances in one transaction. ConflictError on a duplicate run_id. */
  createDagRun(input: NewDagRun): Promise<DagRunRecord>;
  getDagRun(dagId: string, runId: string): Promise<DagRunRecord | null>;
  getDagRunById(id: number): Promise<DagRunRecord | null>;
  listDagRuns(filter?: DagRunFilter): Promise<Page<DagRunRecord>>;
  /** Ids of runs in queued or running state, oldest first. */
  listActiveRunIds(): Promise<number[]>;
  /** Runs with their task instances, for planning (ids not found are omitted). */
  loadRunSnapshots(runIds: number[]): Promise<RunSnapshot[]>;
  /** Conditional run state change; sets start_date on running and end_date on terminal states. */
  setDagRunState(id: number, from: DagRunState[], to: DagRunState, now: Date, note?: string): Promise<boolean>;

  // --- Task instances ---------------------------------------------------------------------------------
  getTaskInstance(dagId: string, runId: string, taskId: string): Promise<TaskInstanceRecord | null>;
  getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null>;
  listTaskInstances(dagId: string, runId: string, opts?: ListOptions): Promise<Page<TaskInstanceRecord>>;
  /**
   * Applies a batch of conditional transitions in one transaction; returns, per input, whether it applied.
   * Sets updated_at = now on every applied row.
   */
  applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]>;
  /** Task instances in queued or running state, counted per DAG (capacity checks). */
  countActiveTaskInstances(): Promise<Map<string, number>>;
  /** Records an agent heartbeat for this try if the instance is still running it; false otherwise. */
  heartbeat(tiId: number, tryNumber: number, now: Date): Promise<boolean>;

  // --- Logs -------------------------------------------------------------------------------------------
  /** Stores lines numbered firstSeq, firstSeq+1, …; lines already stored (same seq) are ignored. */
  appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void>;
  readLogs(tiId: number, tryNumber: number, afterSeq?: number, limit?: number): Promise<LogLineRecord[]>;

  // --- XCom -------------------------------------------------------------------------------------------
  /** Upserts one value. TooLargeError when its JSON exceeds the store's xcom size limit. */
  setXCom(key: XComKey, value: unknown, now: Date): Promise<void>;
  getXCom(key: XComKey): Promise<XComRecord | null>;
  listXComs(filter: { dag_id: string; run_id: string; task_id?: string; key?: string } & ListOptions): Promise<Page<XComRecord>>;
  /** Removes a task instance's XComs (before a retry or clear re-runs it). */
  deleteXComs(dagId: string, runId: string, taskId: string): Promise<void>;

  // --- Users ------------------------------------------------------------------------------------------
  getUser(username: string): Promise<UserRecord | null>;
  /** Inserts or replaces the user. */
  putUser(user: Omit<UserRecord, "created_at">, now: Date): Promise<void>;
}
