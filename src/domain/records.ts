/**
 * The records Leoflow keeps: DAGs, runs, task instances, XCom, logs, users, variables, connections, pools,
 * backfills, events, and the shapes of the changes written to them. Plain data, shared by the store that
 * persists them and by everything that reads them, so no consumer needs the Store to name a row.
 */
import type { DagSpec } from "./dag-spec";
import type { DagRunState, TaskState } from "./states";
import type { WaitReasonKind } from "./wait-reason";

export type RunType = "manual" | "scheduled" | "backfill";

export interface DagRecord {
  /** The team that owns it (domain/teams.ts). */
  team: string;
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
  /** The team that owns it (domain/teams.ts). */
  team: string;
  filename: string;
  /** Field path and reason, one problem per line. */
  stack_trace: string;
  timestamp: Date;
}

export interface DagRunRecord {
  id: number;
  /** The team that owns it (domain/teams.ts). */
  team: string;
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
  /** Airflow's triggering_user_name: the user who triggered it through the API; absent when none did. */
  triggering_user_name?: string;
  /**
   * Airflow's run_after as given to the trigger: the run stays queued until then. Absent when none was given (the
   * API then shows the logical date, else when the run was queued).
   */
  run_after?: Date;
}

export interface TaskInstanceRecord {
  id: number;
  dag_run_id: number;
  /** The team that owns it (domain/teams.ts). */
  team: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  /** -1 for an unmapped task (and a mapped one before its expansion); 0..n-1 for a mapped task's instances. */
  map_index: number;
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
  /**
   * Why it is where it is (e.g. waiting for a pool slot, agent_lost, dispatch_failed: …), for people to read: the
   * system's reason, which the scheduler, agents and reapers rewrite. A user's note is `user_note`.
   */
  note: string | null;
  /**
   * The note a user wrote (Airflow's task instance note): only a user's write changes it (OperatorChange.user_notes),
   * so it outlives the system's reasons, clears and retries; the API answers it as `note` when there is one. Read by
   * the API's reads only: absent from the scheduler's (snapshots, change feeds), whose hot statements do not name it.
   */
  user_note?: string | null;
  /** Set while the scheduler holds it back, for code to read (the note is rendered from the full reason). */
  wait_reason: WaitReasonKind | null;
  updated_at: Date;
}

/**
 * Fields a transition may set alongside the state. `null` clears a field; absent leaves it, except wait_reason:
 * a wait belongs to the state it was recorded in, so a transition clears it unless its patch records the wait
 * in the new state (the scheduler writes none → scheduled and the pool note of a task left waiting at once).
 */
export type TaskInstancePatch = Partial<
  Pick<
    TaskInstanceRecord,
    | "try_number"
    | "queued_at"
    | "start_date"
    | "end_date"
    | "last_heartbeat"
    | "hostname"
    | "pid"
    | "executor"
    | "note"
    | "wait_reason"
    // Lowered to the failed try's number when no task retry could change the outcome (an executor policy violation).
    | "max_tries"
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
  /** The team that owns it (domain/teams.ts). */
  team: string;
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
  /** The user who triggered it through the API (Airflow's triggering_user_name); absent for the scheduler's runs. */
  triggering_user_name?: string | null;
  /** Not started before this time (Airflow's run_after, given to the trigger). */
  run_after?: Date | null;
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

/** A bound on a date column (Airflow's `<field>_gte|_gt|_lte|_lt` query parameters). */
export interface TimeRange {
  gte?: Date;
  gt?: Date;
  lte?: Date;
  lt?: Date;
}

export interface NumberRange {
  gte?: number;
  gt?: number;
  lte?: number;
  lt?: number;
}

/** Date columns a run list filters on; run_after is the logical date (else queued_at), as serialized. */
export type DagRunDateField = "logical_date" | "start_date" | "end_date" | "updated_at" | "run_after";

export interface DagRunFilter extends ListOptions, Partial<Record<DagRunDateField, TimeRange>> {
  dag_id?: string;
  dag_ids?: string[];
  state?: DagRunState[];
  run_type?: RunType[];
  /** SQL LIKE (`%`, `_`), case-insensitive, as Airflow's `run_id_pattern`. */
  run_id_pattern?: string;
  dag_id_pattern?: string;
  /** On triggering_user_name (runs no user triggered never match). */
  triggering_user_name_pattern?: string;
}

/** XCom list filter; absent dag_id/run_id/task_id means every one (Airflow's `~`). Patterns are SQL LIKE. */
export interface XComFilter extends ListOptions, Partial<Record<"logical_date" | "run_after", TimeRange>> {
  dag_id?: string;
  run_id?: string;
  task_id?: string;
  /** One instance's (a mapped task's 0..n-1; -1 an unmapped task's). */
  map_index?: number;
  key?: string;
  key_pattern?: string;
  dag_id_pattern?: string;
  run_id_pattern?: string;
  task_id_pattern?: string;
}

/** Task-instance list filter; absent dag_id/run_id means every DAG/run (Airflow's `~`). */
export interface TaskInstanceFilter extends ListOptions, Partial<Record<DagRunDateField | "queued_at", TimeRange>> {
  dag_id?: string;
  dag_ids?: string[];
  run_id?: string;
  run_ids?: string[];
  task_id?: string;
  task_ids?: string[];
  /** SQL LIKE, case-insensitive. */
  task_id_pattern?: string;
  state?: TaskState[];
  pool?: string[];
  executor?: string[];
  operator?: string[];
  try_number?: number[];
  /** Airflow's map_index filter: -1 for unmapped task instances, 0..n-1 for a mapped task's. */
  map_index?: number[];
  /** Seconds between start_date and end_date. */
  duration?: NumberRange;
}

export interface LogLineRecord {
  seq: number;
  timestamp: Date;
  stream: string;
  line: string;
}

export interface XComRecord {
  /** The team that owns it (domain/teams.ts). */
  team: string;
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
  /** The team that owns it (domain/teams.ts). */
  team: string;
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

/**
 * An Airflow Variable: a string value (often JSON text) under a key. A store keeps value and is_encrypted as
 * given (is_encrypted false when absent); the secrets layer (withSecrets) seals the value before and opens
 * it after.
 */
export interface VariableRecord {
  key: string;
  value: string;
  description: string | null;
  /**
   * Stored: the value is an encrypted envelope (Airflow's column). Through withSecrets: true on read when it
   * is stored encrypted; true on write asks for encryption even when the key does not look secret (a key
   * that does is always encrypted).
   */
  is_encrypted?: boolean;
}

/**
 * An Airflow Connection. `extra` is JSON object text, as Airflow stores it. A store keeps password, extra and
 * their flags as given (false when absent); the secrets layer (withSecrets) seals them before and opens them
 * after, and sets the flags.
 */
export interface ConnectionRecord {
  connection_id: string;
  conn_type: string;
  description: string | null;
  host: string | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  port: number | null;
  extra: string | null;
  /** The password (is_encrypted) / the extra is stored encrypted (Airflow's columns); set by withSecrets. */
  is_encrypted?: boolean;
  is_extra_encrypted?: boolean;
}

/**
 * One re-encryption for Store.rewriteSecrets: the stored text a field must still hold (`from`) and the sealed
 * envelope that replaces it (`to`, or null for a connection field that has none); the store marks every
 * non-null `to` encrypted. Connection fields not being changed carry the same from and to.
 */
export type SecretRewrite =
  | { team: string; variable: string; from: string; to: string }
  | {
      team: string;
      connection_id: string;
      from: { password: string | null; extra: string | null };
      to: { password: string | null; extra: string | null };
    }
  | { team: string; webhook_id: number; from: string; to: string };

/** A row as secrets rotation reads it across every team: the record and the team that owns it. */
export type TeamOwned<T> = T & { team: string };

// --- Scheduling (issue 5 part 1) ----------------------------------------------------------------------

/** A DAG the cron scheduler looks at (see Store.listScheduledDags). */
export interface ScheduledDag {
  dag: DagRecord;
  latest_scheduled_logical_date: Date | null;
  /** queued + running runs that are not part of a backfill. */
  active_runs: number;
}

/** A DAG by its names (a DAG id is unique within its team only). */
export interface DagRef {
  team: string;
  dag_id: string;
}

/** Limits for starting runs (see Store.loadRunGates). `running` counts runs in state running only. */
export interface RunGates {
  /** `run_after`: a queued run's, when one was given (it starts no earlier); null otherwise. */
  runs: { id: number; team: string; dag_id: string; state: DagRunState; backfill_id: number | null; run_after: Date | null }[];
  /** By teamKey(team, dag_id): two teams may both have DAG "etl". */
  dags: Map<string, { is_paused: boolean; max_active_runs: number; running: number }>;
  backfills: Map<number, { is_paused: boolean; max_active_runs: number; running: number }>;
}

/** Queued and running task instances, counted for capacity checks and team quotas (see Store.countActiveTaskInstances). */
export interface ActiveTaskCounts {
  /** Task instances queued or running, by teamKey(team, dag_id); DAGs with none are absent. */
  byDag: Map<string, number>;
  /** Per team with any: what its quotas are checked against. */
  byTeam: Map<string, TeamUsage>;
}

/** What a team holds now, for its quotas (TeamRecord). */
export interface TeamUsage {
  /** Task instances queued or running (max_running_tasks). */
  tasks: number;
  /** Sum of pool_slots of those task instances, over all the team's pools (max_pool_slots). */
  pool_slots: number;
  /** Inline (http) task instances running in the control plane (max_inline_requests). */
  inline: number;
}

export type ReprocessBehavior = "none" | "failed" | "completed";

/**
 * Why a backfill leaves a slot alone, by the state of the slot's latest existing run; a slot with no run, or
 * whose latest run is in a state not listed, gets a new run. Worked out from the reprocess behaviour by
 * scheduler/backfill.ts (`backfillSkips`), so the store only looks the state up.
 */
export type BackfillSkips = Partial<Record<DagRunState, string>>;

/** Airflow 3's Backfill. */
export interface BackfillRecord {
  id: number;
  /** The team that owns it (domain/teams.ts). */
  team: string;
  dag_id: string;
  from_date: Date;
  to_date: Date;
  run_backwards: boolean;
  dag_run_conf: Record<string, unknown> | null;
  is_paused: boolean;
  reprocess_behavior: ReprocessBehavior;
  max_active_runs: number;
  created_at: Date;
  completed_at: Date | null;
  updated_at: Date;
}

export interface NewBackfill {
  /** The team that owns it (domain/teams.ts). */
  team: string;
  dag_id: string;
  from_date: Date;
  to_date: Date;
  run_backwards: boolean;
  dag_run_conf: Record<string, unknown> | null;
  reprocess_behavior: ReprocessBehavior;
  max_active_runs: number;
  now: Date;
  /** Which slots that already have a run are skipped, and why (see BackfillSkips). */
  skip_existing: BackfillSkips;
  /** One per slot, in the order they should start (oldest first, or newest first when run_backwards). */
  runs: NewDagRun[];
}

/** A pool (Airflow's) with its current usage, summed over task instances in one query. */
export interface PoolRecord {
  /** The team that owns it (domain/teams.ts). */
  team: string;
  name: string;
  /** -1 = unlimited. */
  slots: number;
  description: string | null;
  include_deferred: boolean;
  /** Sums of pool_slots of the pool's task instances in each state. */
  running_slots: number;
  queued_slots: number;
  scheduled_slots: number;
  /** Deferred ones (sensors the control plane checks): they hold slots only when include_deferred is true (occupiedSlots). */
  deferred_slots: number;
}

/**
 * A pool and the slots its running and queued task instances hold, and its deferred ones when its include_deferred
 * counts them (0 otherwise: those hold none): what the scheduler's capacity step reads.
 */
export type PoolOccupancy = Pick<
  PoolRecord,
  "team" | "name" | "slots" | "include_deferred" | "running_slots" | "queued_slots" | "deferred_slots"
>;

/**
 * Airflow's Pool.occupied_slots: running and queued task instances' slots, and deferred ones' when the pool's
 * include_deferred is true (a deferred sensor then keeps its slot while it waits).
 *
 * @example occupiedSlots({ running_slots: 2, queued_slots: 1, deferred_slots: 3, include_deferred: true }) // 6
 */
export const occupiedSlots = (p: Pick<PoolOccupancy, "include_deferred" | "running_slots" | "queued_slots" | "deferred_slots">): number =>
  p.running_slots + p.queued_slots + (p.include_deferred ? p.deferred_slots : 0);

/** Fields a pool is created with; PATCH sends any subset but `name`. */
export interface PoolInput {
  name: string;
  slots: number;
  description: string | null;
  include_deferred: boolean;
}

/**
 * One task instance an operator clears (Airflow's clear): it goes back to `none` on try `try_number` with
 * `max_tries`, everything describing the previous try is wiped and its XComs deleted.
 */
export interface TaskClear {
  id: number;
  /** The state it was read in; the clear applies only if it is still in it and on `from_try`. */
  from: TaskState;
  from_try: number;
  try_number: number;
  max_tries: number;
  /**
   * A mapped task cleared whole is expanded again (Airflow): its instance 0 becomes the unexpanded one
   * (`map_index` -1) and the others go to `removed` instead of `none`, keeping their history; the next
   * expansion revives those its new list still has.
   */
  map_index?: -1;
  to?: "removed";
}

/** A dag-run state change made by an operator (clear, mark). */
export interface RunStateChange {
  id: number;
  from: DagRunState[];
  to: DagRunState;
  /** Absent leaves the note alone. */
  note?: string | null;
}

/** A note a user writes on a task instance (Airflow's TI note); null clears it, and the system's reason shows again. */
export interface TaskUserNote {
  id: number;
  note: string | null;
}

/** Everything one operator action (clear, mark, a note) writes, applied in ONE transaction. */
export interface OperatorChange {
  transitions?: TaskTransition[];
  clears?: TaskClear[];
  runs?: RunStateChange[];
  user_notes?: TaskUserNote[];
}

/** What of an OperatorChange applied, per input list, in its order. */
export interface OperatorChangeApplied {
  transitions: boolean[];
  clears: boolean[];
  runs: boolean[];
  /** False where the task instance is gone. */
  user_notes: boolean[];
}

/** Where a waiting task instance stands, for the scheduler's note-only writes. */
export interface TaskNoteUpdate {
  id: number;
  /** The state it was read in; the note is written only if it is still in it. */
  state: TaskState;
  note: string | null;
  /** Why the scheduler holds it (null: no longer held); absent leaves it alone. */
  wait_reason?: WaitReasonKind | null;
}

/** The run before a given run of the same DAG (by logical_date) and its task-instance states. */
export interface PreviousRunStates {
  /** The run asked about. */
  dag_run_id: number;
  previous: { run_id: string; states: Map<string, TaskState> } | null;
}

/** One row of the event log: the event as appended (without its id) and the id the log gave it. */
export interface EventLogRow {
  id: number;
  event: Record<string, unknown>;
  created_at: Date;
}

/** A task instance a reaper may fail; `observed_at` is last_heartbeat (running) or queued_at (queued). */
export interface ReapTaskCandidate {
  id: number;
  dag_run_id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
  max_tries: number;
  observed_at: Date | null;
}

export interface OrphanCandidate {
  /** The dag run's numeric id. */
  id: number;
  dag_id: string;
  run_id: string;
  last_activity: Date | null;
}

export interface TaskReap {
  id: number;
  try_number: number;
  from: "running" | "queued";
  /** The last_heartbeat (running) or queued_at (queued) the decision was made on. */
  observed_at: Date | null;
  /** failed, or up_for_retry while the try has retries left (failedTryState): no reader sees a retried try as failed. */
  to: "failed" | "up_for_retry";
  note: string;
}

export interface DispatchBackoff {
  ti_id: number;
  try_number: number;
  attempts: number;
  next_at: Date;
}
