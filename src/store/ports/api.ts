/**
 * ApiStore: what the REST API reads and writes, by resource. Route helpers take the narrowest of these
 * (or a Pick of them); `ApiDeps.store` is the whole of it.
 */
import type {
  DagRecord,
  DagRunFilter,
  DagRunRecord,
  ImportErrorRecord,
  ListOptions,
  OperatorChange,
  OperatorChangeApplied,
  Page,
  TaskInstanceFilter,
  XComFilter,
  TaskInstanceRecord,
  TaskInstanceSummarySource,
  XComKey,
  XComRecord,
} from "../../domain";
import type { AgentRpcStore } from "./agent-rpc";
import type { DagsQueryStore } from "./api-dags";
import type { BackfillsApiStore } from "./api-backfills";
import type { BulkApiStore } from "./api-bulk";
import type { AuditLogStore } from "./audit-log";
import type { PoolsApiStore } from "./api-pools";
import type { VariablesApiStore } from "./api-variables";
import type { RecordLookups } from "./lookups";
import type { SchedulerStore } from "./scheduler";
import type { TaskLogStore } from "./task-log";
import type { UserStore } from "./users";
import type { TeamStore } from "./teams";
import type { WebhookStore } from "./webhooks";

/** DAGs and import errors of one team (another team's import error is not found). */
export interface DagsApiStore extends DagsQueryStore {
  listDags(team: string, opts?: ListOptions & { only_active?: boolean; paused?: boolean; tags?: string[] }): Promise<Page<DagRecord>>;
  setDagPaused(team: string, dagId: string, paused: boolean): Promise<DagRecord | null>;
  /** `filename_pattern`: a case-insensitive LIKE on the file name. */
  listImportErrors(team: string, opts?: ListOptions & { filename_pattern?: string }): Promise<Page<ImportErrorRecord>>;
  getImportError(team: string, id: number): Promise<ImportErrorRecord | null>;
}

/** Dag runs: listing, triggering (createDagRun), and what clear and mark read and write. */
export interface RunsApiStore extends Pick<SchedulerStore, "createDagRun" | "loadRunSnapshots"> {
  /** The team's runs only. */
  listDagRuns(team: string, filter?: DagRunFilter): Promise<Page<DagRunRecord>>;
  /** Deletes the team's run, its task instances, their logs and its XComs; false when the team has no such run. */
  deleteDagRun(team: string, dagId: string, runId: string): Promise<boolean>;
  /**
   * Applies an operator action (clear, mark) in ONE transaction and returns, per input list, what applied:
   * - transitions: exactly as applyTransitions (conditional, updated_at = now);
   * - clears: `UPDATE … SET state='none', try_number, max_tries, queued_at, start_date, end_date,
   *   last_heartbeat, hostname, pid, executor, note = NULL, updated_at = now WHERE id AND state = from AND
   *   try_number = from_try`, and when it applied, DELETE the task instance's XComs;
   * - runs: `UPDATE dag_runs SET state = to [, note] WHERE id AND state IN from`; to=queued also sets
   *   queued_at = now, start_date = NULL, end_date = NULL (Airflow re-queues a cleared run); success/failed
   *   set end_date = now; running sets start_date = COALESCE(start_date, now). These dates change only
   *   when the row's state differs from `to` (re-marking a run into its own state keeps its dates).
   * - user_notes: `UPDATE task_instances SET user_note = note WHERE id` (a user's note; nothing else changes, not
   *   even updated_at: the note is no part of the task instance's state, which the scheduler's change feeds follow).
   * Every task-instance change is checked with canTransition first (IllegalTransitionError, nothing written).
   */
  applyOperatorChange(change: OperatorChange, now: Date): Promise<OperatorChangeApplied>;
}

/** Task instances, their logs and their XComs. */
export interface TaskInstancesApiStore
  extends Pick<TaskLogStore, "readLogs" | "lastLogSeq" | "appendLogs">,
    Pick<AgentRpcStore, "getXCom" | "listMappedXComs"> {
  /** The task instances of the team's run. */
  listTaskInstances(team: string, dagId: string, runId: string, opts?: ListOptions): Promise<Page<TaskInstanceRecord>>;
  /**
   * The DAG page's read of a run (by its row id, found through the team's lookup first): its unmapped task
   * instances, and its mapped ones grouped by task and state (domain/task-summaries.ts folds them); only those of
   * `taskIds` when given (the rows a wide DAG's grid shows).
   */
  readTaskInstanceSummaries(dagRunId: number, taskIds?: readonly string[]): Promise<TaskInstanceSummarySource>;
  /** The team's task instances across DAGs and runs (the API's `~` lists and filters). */
  findTaskInstances(team: string, filter: TaskInstanceFilter): Promise<Page<TaskInstanceRecord>>;
  /**
   * Task instances by id, as the API shows them (with the user's note), ordered by id; ids not found are left out.
   * What a clear or a mark answers is read here: a run snapshot, the scheduler's read, has no user's note.
   */
  listTaskInstancesByIds(ids: readonly number[]): Promise<TaskInstanceRecord[]>;
  /** Earlier tries of a task instance (not the current one), oldest first. */
  listTaskInstanceTries(tiId: number): Promise<TaskInstanceRecord[]>;
  /** The team's XCom entries. */
  listXComs(team: string, filter: XComFilter): Promise<Page<XComRecord>>;
  /**
   * POST xcomEntries' write: the value, stored only when its key has none and its task instance exists, checked in
   * the same statement or transaction (a run deleted meanwhile is left no row; a second create finds the first).
   * The stored record, or null when either is not so: nothing is written. TooLargeError or ValidationError as setXCom.
   */
  insertXCom(key: XComKey, value: unknown, now: Date): Promise<XComRecord | null>;
  /** PATCH xcomEntries' write: replaces the key's value; null when it has none (nothing is written, none is created). */
  updateXCom(key: XComKey, value: unknown, now: Date): Promise<XComRecord | null>;
}

export interface ApiStore
  extends RecordLookups,
    DagsApiStore,
    RunsApiStore,
    BackfillsApiStore,
    TaskInstancesApiStore,
    PoolsApiStore,
    VariablesApiStore,
    BulkApiStore,
    AuditLogStore,
    UserStore,
    TeamStore,
    WebhookStore {}
