/**
 * The Store interface: the only door to data. SqliteStore and PostgresStore implement it and pass the same
 * contract suite (test/store/contract.ts). Rules every implementation keeps:
 * - state changes are conditional (`… WHERE state IN (from)`), so a lost race returns false, never clobbers;
 * - every multi-row change is one transaction;
 * - times are JS Dates (UTC) in and out; JSON columns are parsed objects in and out.
 */
import type { DagSpec, DagRunState, TaskState, DagRecord, ImportErrorRecord, DagRunRecord, TaskInstanceRecord, TaskTransition, NewDagRun, RunSnapshot, ListOptions, DagRunFilter, LogLineRecord, XComRecord, XComKey, UserRecord, Page, VariableRecord, ConnectionRecord, SecretRewrite, ScheduledDag, RunGates, BackfillRecord, NewBackfill, PoolRecord, PoolInput, OperatorChange, TaskNoteUpdate, PreviousRunStates, EventLogRow, ReapTaskCandidate, OrphanCandidate, TaskReap, DispatchBackoff } from "../domain";

/** The record types live in the domain; re-exported so `import … from "../store"` keeps working. */
export type { RunType, DagRecord, ImportErrorRecord, DagRunRecord, TaskInstanceRecord, TaskInstancePatch, TaskTransition, NewDagRun, RunSnapshot, ListOptions, DagRunFilter, LogLineRecord, XComRecord, XComKey, UserRecord, Page, VariableRecord, ConnectionRecord, SecretRewrite, ScheduledDag, RunGates, ReprocessBehavior, BackfillRecord, NewBackfill, PoolRecord, PoolInput, TaskClear, RunStateChange, OperatorChange, TaskNoteUpdate, PreviousRunStates, EventLogRow, ReapTaskCandidate, OrphanCandidate, TaskReap, DispatchBackoff } from "../domain";

export interface Store {
  /** Applies pending numbered migrations; safe to call at every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * When this database was created (its first migration ran), or null before migrate(). Tells a store apart
   * from a reset one at the same URL, e.g. in the docker executor's instance id.
   */
  createdAt(): Promise<Date | null>;

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
  /**
   * Ids of runs (any state) with a task instance whose updated_at is after `since`: what changed since the
   * scheduler's previous sweep, so a sweep reloads only those. Ascending, no duplicates.
   */
  listRunIdsChangedSince(since: Date): Promise<number[]>;
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

  // --- Pools, clear, mark, depends_on_past (issue 5 part 2) -------------------------------------------
  /**
   * Page of pools with usage; order_by accepts id (default, creation order), name; `name_pattern` is a
   * case-insensitive LIKE on name. Usage: per pool, the sum of pool_slots of its task instances in state
   * running, queued and scheduled (task instances naming a pool that does not exist count nowhere).
   */
  listPools(opts?: ListOptions & { name_pattern?: string }): Promise<Page<PoolRecord>>;
  /** Every pool with usage (same sums), in one query: the scheduler reads it once per dispatch. */
  listPoolUsage(): Promise<PoolRecord[]>;
  getPool(name: string): Promise<PoolRecord | null>;
  /** Inserts a pool; ConflictError ("The Pool with name: `x` already exists") when the name is taken. */
  createPool(pool: PoolInput): Promise<PoolRecord>;
  /** Updates the given fields (not the name); null when there is no such pool. */
  updatePool(name: string, patch: Partial<Omit<PoolInput, "name">>): Promise<PoolRecord | null>;
  /** Deletes the pool; false when there was none. Callers refuse default_pool before asking. */
  deletePool(name: string): Promise<boolean>;
  /**
   * Applies an operator action in ONE transaction and returns, per input list, what applied:
   * - transitions: exactly as applyTransitions (conditional, updated_at = now);
   * - clears: `UPDATE … SET state='none', try_number, max_tries, queued_at, start_date, end_date,
   *   last_heartbeat, hostname, pid, executor, note = NULL, updated_at = now WHERE id AND state = from AND
   *   try_number = from_try`, and when it applied, DELETE the task instance's XComs;
   * - runs: `UPDATE dag_runs SET state = to [, note] WHERE id AND state IN from`; to=queued also sets
   *   queued_at = now, start_date = NULL, end_date = NULL (Airflow re-queues a cleared run); success/failed
   *   set end_date = now; running sets start_date = COALESCE(start_date, now). These dates change only
   *   when the row's state differs from `to` (re-marking a run into its own state keeps its dates).
   * Every task-instance change is checked with canTransition first (IllegalTransitionError, nothing written).
   */
  applyOperatorChange(change: OperatorChange, now: Date): Promise<{ transitions: boolean[]; clears: boolean[]; runs: boolean[] }>;
  /**
   * Note-only writes for task instances that wait (pool slots, depends_on_past): `UPDATE task_instances SET
   * note WHERE id AND state`, one transaction; updated_at is left alone (no state changed). Returns per input.
   */
  setTaskInstanceNotes(updates: TaskNoteUpdate[]): Promise<boolean[]>;
  /**
   * For each given run (by id): the run of the same DAG with the greatest logical_date strictly before its
   * logical_date (ties: greatest id), with the states of all its task instances; previous is null when the
   * run has no logical_date or no earlier run exists. One query for all runs.
   */
  listPreviousRunStates(dagRunIds: number[]): Promise<PreviousRunStates[]>;

  // --- Scheduling (issue 5 part 1): cron runs, run limits, backfills ---------------------------------
  /**
   * Every DAG that is active, unpaused and has a non-null `spec.schedule` (current version), with the
   * logical_date of its latest run of run_type "scheduled" (null if none; manual and backfill runs do not
   * move the schedule) and its count of queued+running runs that belong to no backfill. One query.
   */
  listScheduledDags(): Promise<ScheduledDag[]>;
  /**
   * What the loop needs to decide which of `runIds` it may plan: each run still queued or running (others
   * omitted) with its dag_id and backfill_id; per DAG of those runs: is_paused, the current spec's
   * max_active_runs and its count of RUNNING runs with no backfill; per backfill of those runs: is_paused,
   * max_active_runs and its count of RUNNING runs. One read transaction.
   */
  loadRunGates(runIds: number[]): Promise<RunGates>;
  /**
   * Creates a backfill and its runs in one transaction. ConflictError when the DAG already has a backfill
   * with completed_at null. For each `runs[i]` in order (its logical_date set): the DAG's latest run with
   * that logical_date (any run_type; latest = start_date descending with NULLs last, then id descending)
   * decides — none: create; queued/running: skip ("in flight"); success/failed: skip ("already exists")
   * unless reprocess_behavior is "completed", or "failed" and that run failed. A created run is inserted as
   * createDagRun does (state queued, its task instances in state none) with backfill_id set; when its
   * run_id is taken it gets `<run_id>_<backfill id>` instead (the old run stays). Returns the backfill,
   * the created run ids in order, and each skipped logical_date with its reason.
   */
  createBackfill(input: NewBackfill): Promise<{ backfill: BackfillRecord; created: number[]; skipped: { logical_date: Date; reason: string }[] }>;
  getBackfill(id: number): Promise<BackfillRecord | null>;
  /** Page of backfills, optionally of one DAG; order_by accepts id (default), created_at, completed_at. */
  listBackfills(opts?: ListOptions & { dag_id?: string }): Promise<Page<BackfillRecord>>;
  /** Sets is_paused and updated_at = now; null when there is no such backfill. */
  setBackfillPaused(id: number, paused: boolean, now: Date): Promise<BackfillRecord | null>;
  /**
   * In one transaction: pauses the backfill, fails its runs still `queued` (end_date = now, note "backfill
   * <id> cancelled"), sets completed_at = updated_at = now. Running runs finish normally. Null if unknown.
   */
  cancelBackfill(id: number, now: Date): Promise<BackfillRecord | null>;
  /** Sets completed_at = now on every backfill with completed_at null and no queued/running run; returns their ids. */
  completeFinishedBackfills(now: Date): Promise<number[]>;

  // --- Variables & connections (issue 6) ----------------------------------------------------------------
  /** The variable, or null. Keys are case-sensitive. */
  getVariable(key: string): Promise<VariableRecord | null>;
  /**
   * Inserts the variable, or replaces value and description of an existing one (returns what is stored).
   * With `onlyIfAbsent`, an existing key is left alone and ConflictError ("… already exists") is thrown.
   */
  putVariable(variable: VariableRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<VariableRecord>;
  /**
   * Page of variables; order_by accepts key (default) and description (`-` for descending); ties by key.
   * `key_pattern` is a LIKE pattern on key (`%` any run, `_` one character), case-insensitive like Airflow's
   * search params (Postgres: ILIKE).
   */
  listVariables(opts?: ListOptions & { key_pattern?: string }): Promise<Page<VariableRecord>>;
  /** Deletes the variable; false when there was none. */
  deleteVariable(key: string): Promise<boolean>;
  /** The connection with its real password (callers that show it must mask it), or null. */
  getConnection(connectionId: string): Promise<ConnectionRecord | null>;
  /** Inserts or replaces every field of the connection. `onlyIfAbsent` as for putVariable. */
  putConnection(connection: ConnectionRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<ConnectionRecord>;
  /** Page of connections; order_by accepts connection_id (default), conn_type, host; ties by connection_id. Same `id_pattern` LIKE rule. */
  listConnections(opts?: ListOptions & { id_pattern?: string }): Promise<Page<ConnectionRecord>>;
  /** Deletes the connection; false when there was none. */
  deleteConnection(connectionId: string): Promise<boolean>;
  /**
   * Secrets rotation: in one transaction, replaces each variable value / connection password and extra that
   * still holds its `from` text by its `to` text (updated_at unchanged: the secret did not change, its
   * sealing did). All or nothing: if any row is gone or holds something else, ConflictError and no change.
   * Returns how many rows changed.
   */
  rewriteSecrets(rewrites: SecretRewrite[]): Promise<number>;

  // --- Reliability (issue 7): reaper candidates and guarded reaps, dispatch retries --------------------
  /** Every `running` task instance whose last_heartbeat is set (Register sets it), any age; the reaper decides. */
  listAgentLostCandidates(): Promise<ReapTaskCandidate[]>;
  /** Every `queued` task instance, with queued_at as stored (null included; the reaper treats null as alive). */
  listDispatchLostCandidates(): Promise<ReapTaskCandidate[]>;
  /**
   * Every `running` dag run none of whose task instances is scheduled, queued, running or up_for_retry,
   * with last_activity = the latest of the run's start_date and its task instances' start_date/end_date
   * (null when all are null).
   */
  listOrphanCandidates(): Promise<OrphanCandidate[]>;
  /**
   * Fails task instances in one transaction: per reap, `UPDATE … SET state='failed', end_date=now,
   * note=reap.note, updated_at=now WHERE id AND try_number AND state = reap.from AND <observed> IS
   * reap.observed_at`, where <observed> is last_heartbeat for from=running and queued_at for from=queued —
   * so a heartbeat or re-queue after the candidate was read makes the reap a no-op. Returns, per reap,
   * whether it applied. Legal by canTransition (running→failed, queued→failed).
   */
  reapTaskInstances(reaps: TaskReap[], now: Date): Promise<boolean[]>;
  /**
   * In one transaction, only while run `id` is `running` and has no scheduled/queued/running/up_for_retry
   * task instance: the run → failed (end_date=now, note) and each of its task instances in state `none`
   * → failed (end_date=now, note). Returns whether the run was failed (false: state changed meanwhile).
   */
  reapOrphanedRun(id: number, note: string, now: Date): Promise<boolean>;
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

  // --- Lifecycle event log (GET /api/v2/leoflow/events; shared by every Pro replica) ---
  /**
   * Appends events in order, in one transaction; returns their ids, ascending. Appends are serialized, so
   * ids become visible in increasing order: a reader that saw id N will never later find a new id below N.
   */
  appendEvents(events: Record<string, unknown>[], now: Date): Promise<number[]>;
  /** Rows with id > afterId, in id order, at most `limit`. */
  readEventsAfter(afterId: number, limit: number): Promise<EventLogRow[]>;
  /** The newest id, 0 when the log is empty. */
  lastEventId(): Promise<number>;
  /** Deletes rows created before `before` and all but the newest `keepLast`; returns how many. */
  pruneEvents(before: Date, keepLast: number): Promise<number>;
}
