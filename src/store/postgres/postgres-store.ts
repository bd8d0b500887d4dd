/**
 * PostgresStore: the Store on Postgres (the `postgres` package), Pro mode's store and Lite's option for
 * teams that already run Postgres. Batch-shaped SQL (one statement per batch over `unnest` arrays),
 * conditional updates (`WHERE state = ANY(…)`), and a `schema` option so tests and tenants stay apart. Only
 * SQL lives here: the transition check is guardedStore's, which openStore puts in front.
 *
 * @example
 * const store = new PostgresStore({ url: "postgres://leo@db:5432/leoflow" });
 * await store.migrate();
 */
import type {
  DagRunState,
  DagSpec,
  BackfillRecord,
  ConnectionRecord,
  SecretRewrite,
  TeamOwned,
  DispatchBackoff,
  NewBackfill,
  OperatorChange,
  OperatorChangeApplied,
  OrphanCandidate,
  PoolInput,
  PoolOccupancy,
  PoolRecord,
  PreviousRunStates,
  ReapTaskCandidate,
  RunGates,
  DagRef,
  ActiveTaskCounts,
  ScheduledDag,
  TaskNoteUpdate,
  TaskReap,
  VariableRecord,
  DagRecord,
  DagRunFilter,
  DagRunRecord,
  ImportErrorRecord,
  ListOptions,
  LogLineRecord,
  NewDagRun,
  Page,
  RunSnapshot,
  TaskInstanceRecord,
  TaskInstanceSummarySource,
  TaskTransition,
  UserRecord,
  TeamInput,
  TeamRecord,
  XComKey,
  XComRecord,
  TaskInstanceFilter,
  XComFilter,
  EventLogRow,
} from "../../domain";
import { runMigrations } from "../migrate";
import { CHECK_DB, postgresWhere } from "./where";
import { DEFAULT_XCOM_MAX_BYTES } from "../sqlite";
import type { Store } from "../store";
import type { DagHead } from "../ports/lookups";
import type { StoredSigningFingerprint } from "../ports/signing-fingerprint";
import type { Slice } from "../ports/secrets";
import type { LogBatch } from "../ports/task-log";
import type { EventAppendNotice } from "../ports/event-log";
import type { InlineTryEnd, InlineTryEndResult } from "../ports/inline-tries";
import { settleTryEnds } from "../sqlite/inline-finish";
import { finishTryEnds, tryEndsStatement } from "./inline-finish";
import type { ChangeCursor, DagRunStateChange, KnownTaskInstance, RunChanges, TickReads } from "../ports/scheduler";
import { loadTickReads } from "./tick-reads";
import { connect, shareArrayTypes, type Pool } from "./client";
import * as dags from "./dags";
import * as dagsQuery from "./dags-query";
import { ensureTeam } from "../ensure-team";
import type { DagFilter, DagRunStateCount, DagVersionRecord } from "../ports/api-dags";
import * as filterQueries from "./filter-queries";
import * as logs from "./logs";
import * as operator from "./operator";
import * as pools from "./pools";
import * as reapers from "./reapers";
import * as events from "./events";
import * as bulk from "./bulk";
import * as auditLog from "./audit-log";
import type { AuditLogEntry, AuditLogFilter, AuditLogRecord, BulkAction, BulkActionResult } from "../../domain";
import * as staging from "./staging";
import * as sensors from "./sensors";
import type { DueSensor, RescheduleUpdate, SensorProgress, SensorWaitUpdate } from "../ports/sensors";
import type { TaskState as SensorTaskState } from "../../domain";
import type { NewStagingVolume, StagingVolumeRecord } from "../ports/staging";
import type { SetUserRoleResult, TeamRole, UserChange, UserChangeResult } from "../ports/users";
import type { TeamPatch } from "../ports/teams";
import * as teams from "./teams";
import * as scheduling from "./scheduling";
import * as variables from "./variables";
import { POSTGRES_MIGRATIONS, postgresMigrationTarget } from "./migrations";
import * as runs from "./runs";
import * as snapshots from "./snapshots";
import * as runCreate from "./run-create";
import * as runStates from "./run-states";
import * as tis from "./task-instances";
import * as agentTries from "./agent-tries";
import type { TryFinish, TryIdentity, TryStart, TryStartWrite, TryWrite } from "../ports/agent-rpc";
import * as users from "./users";
import * as xcom from "./xcom";
import * as mapping from "./mapping";
import type { ActiveTaskKey, TaskExpansion } from "../ports/mapping";
import * as webhooks from "./webhooks";
import * as callbacks from "./callbacks";
import * as schedulerHeartbeat from "./scheduler-heartbeat";
import * as signingFingerprint from "./signing-fingerprint";
import { IMPORT_ERROR_EVENT, RUN_EVENTS, TASK_EVENT, WebhookInterest, importErrorEvent, operatorTaskChanges } from "../webhook-interest";
import { isTerminalDagRunState } from "../../domain";
import type { Db } from "./client";
import type {
  ClaimedWebhookDelivery,
  StoredWebhookSecret,
  WebhookAttemptOutcome,
  WebhookPruneCutoffs,
  WebhookDeliveryRecord,
  WebhookDeliveryState,
  WebhookInput,
  WebhookPatch,
  WebhookRecord,
} from "../../domain";
import { readTaskInstanceSummaries } from "./task-summaries";

/**
 * Connections of the hot pool: a hop's statements run one after another, a fan-out has its batch of ends, its
 * batch of starts and a tick's read in flight at once. Each connection pays its set-up (the driver's type
 * read, the catalogue caches, one generic plan per statement) once, in the first hops after a start.
 */
const HOT_POOL_MAX = 4;
/** Batches up to this many transitions (a hop's, a fan-out's) use the hot pool; larger ones the shared pool. */
const HOT_MAX_TRANSITIONS = 64;
/**
 * Batches of inline try ends on their way at once, pipelined on one connection of their own (InlineTryStore
 * inlineEndsInFlight). A fan-out's ends were one batch after another, each waiting 2.5–3 ms for its answer with
 * Postgres executing it for ~1.4 of them (17 ends a batch, 32 slots, traced), so slots sat waiting on the round
 * trip. Pipelined, the next batch is sent while the previous executes; on one connection Postgres still runs them
 * one at a time, which two batches at once on two connections of the hot pool did not (slower per batch, no gain).
 */
const INLINE_ENDS_IN_FLIGHT = 3;

export interface PostgresStoreOptions {
  /** postgres://USER:PASSWORD@HOST:PORT/DB */
  url: string;
  /** Largest XCom JSON accepted, in bytes (default 1 MiB). */
  xcomMaxBytes?: number;
  /** Schema holding the tables (default `public`); created by migrate() when missing. */
  schema?: string;
  /** Connection pool size (default 10). */
  max?: number;
  /** Connections of the hot pool (default HOT_POOL_MAX); tests pass 1 to read its prepared statements. */
  hotMax?: number;
}

export class PostgresStore implements Store {
  /** The pool; exposed for tests and for code of this store's own folder. */
  readonly sql: Pool;
  /**
   * A hop's statements on a few connections of their own, planned generically from their first execution: an
   * inline try's end, a woken tick's read, small transition batches, an agent's start, lines and end. On the
   * shared pool the driver hands each query to the connection idle longest, so each of ten connections planned
   * each of these statements five times (custom plans) before settling on the generic plan it then keeps: a
   * bench of 60 hops spent most of them there (traced: 0.5 ms of planning per write, 1.4–5 ms per tick read,
   * against 0.05–0.3 generic). Their rows come by id or as arrays, so no plan depends on a parameter's value:
   * the generic plan is the one Postgres settles on after five runs anyway. Exposed for tests.
   */
  readonly hot: Pool;
  /** The one connection inline try ends are pipelined on (INLINE_ENDS_IN_FLIGHT), planned generically like the hot pool. Exposed for tests. */
  readonly inlineEnds: Pool;
  readonly inlineEndsInFlight = INLINE_ENDS_IN_FLIGHT;
  readonly schema: string;
  private readonly xcomMaxBytes: number;
  /** The URL without its password, and the schema, for error messages. */
  private readonly where: string;
  /** Which event types enabled webhooks want: gates the outbox INSERTs of state changes. */
  private readonly webhookInterest = new WebhookInterest();

  constructor(opts: PostgresStoreOptions) {
    this.schema = opts.schema ?? "public";
    this.where = postgresWhere(opts.url, this.schema);
    this.sql = connect({ url: opts.url, schema: this.schema, max: opts.max });
    this.hot = connect({ url: opts.url, schema: this.schema, max: opts.hotMax ?? HOT_POOL_MAX, genericPlans: true });
    this.inlineEnds = connect({ url: opts.url, schema: this.schema, max: 1, genericPlans: true });
    this.xcomMaxBytes = opts.xcomMaxBytes ?? DEFAULT_XCOM_MAX_BYTES;
  }

  /** The first call at start is also where an unreachable server or a wrong URL shows: say which, and where. */
  async migrate(): Promise<void> {
    try {
      await runMigrations(POSTGRES_MIGRATIONS, postgresMigrationTarget(this.sql, this.schema));
      await this.refreshWebhookInterest();
      shareArrayTypes(this.sql, [this.hot, this.inlineEnds]);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`migrating Postgres at ${this.where} failed: ${reason}; ${CHECK_DB}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.sql.end({ timeout: 5 }), this.hot.end({ timeout: 5 }), this.inlineEnds.end({ timeout: 5 })]);
  }

  /**
   * A state change and the outbox rows it owes webhooks, in one transaction; when no webhook wants the event
   * type (or the write raises none: null), the write alone, exactly as before webhooks existed (one statement, no BEGIN/COMMIT).
   */
  private async withOutbox<T>(
    type: string | null,
    write: (sql: Pool) => Promise<T>,
    enqueue: (tx: Db, written: T) => Promise<unknown>,
  ): Promise<T> {
    if (type === null || !this.webhookInterest.wants(type)) return write(this.sql);
    return (await this.sql.begin(async (tx) => {
      const written = await write(webhooks.joiningTransaction(tx));
      await enqueue(tx, written);
      return written;
    })) as T;
  }
  /** Outbox rows for the task transitions that applied and changed a state. */
  private async enqueueTransitions(
    tx: Db,
    transitions: readonly { id: number; from: readonly string[]; to: string }[],
    applied: boolean[],
    now: Date,
  ) {
    const ids = transitions.filter((t, i) => applied[i] && !(t.from.length === 1 && t.from[0] === t.to)).map((t) => t.id);
    await webhooks.enqueueTaskEvents(tx, ids, now);
  }
  private async enqueueRuns(tx: Db, changes: readonly { id: number; to: DagRunState }[], applied: boolean[], now: Date) {
    for (const [i, c] of changes.entries()) {
      const type = WebhookInterest.runEventType(c.to, isTerminalDagRunState(c.to));
      if (applied[i] && this.webhookInterest.wants(type)) await webhooks.enqueueRunEvent(tx, c.id, type, now);
    }
  }

  async createdAt(): Promise<Date | null> {
    const [row] = await this.sql.unsafe<{ applied_at: string | number }[]>("SELECT applied_at FROM schema_migrations WHERE version = 1");
    return row ? new Date(Number(row.applied_at)) : null;
  }

  async upsertDag(team: string, input: { spec: DagSpec; fileloc: string; pausedOnCreate: boolean; now: Date }): Promise<DagRecord> {
    return dags.upsertDag(this.sql, team, input);
  }
  async ensureTeam(team: string, now: Date): Promise<boolean> {
    return ensureTeam(this, team, now);
  }
  async getDag(team: string, dagId: string): Promise<DagRecord | null> {
    return dags.getDag(this.sql, team, dagId);
  }
  async getDagHead(team: string, dagId: string): Promise<DagHead | null> {
    return dags.getDagHead(this.sql, team, dagId);
  }
  async listDags(
    team: string,
    opts?: ListOptions & { only_active?: boolean; paused?: boolean; tags?: string[] },
  ): Promise<Page<DagRecord>> {
    return dags.listDags(this.sql, team, opts);
  }
  async findDags(team: string, filter: DagFilter): Promise<Page<DagRecord>> {
    return dagsQuery.findDags(this.sql, team, filter);
  }
  async setDagsPaused(team: string, filter: DagFilter, paused: boolean): Promise<number> {
    return dagsQuery.setDagsPaused(this.sql, team, filter, paused);
  }
  async deleteDag(team: string, dagId: string): Promise<"deleted" | "not_found" | "running"> {
    return dagsQuery.deleteDag(this.sql, team, dagId);
  }
  async listDagVersions(
    team: string,
    filter: ListOptions & { dag_id?: string; version_id?: number; version_number?: number },
  ): Promise<Page<DagVersionRecord>> {
    return dagsQuery.listDagVersions(this.sql, team, filter);
  }
  async countDagRunStates(team: string, dagIds?: string[]): Promise<DagRunStateCount[]> {
    return dagsQuery.countDagRunStates(this.sql, team, dagIds);
  }
  async latestScheduledLogicalDates(team: string, dagIds: readonly string[]): Promise<Map<string, Date>> {
    return dagsQuery.latestScheduledLogicalDates(this.sql, team, dagIds);
  }
  async listDagTags(team: string, opts: ListOptions & { pattern?: string }): Promise<Page<string>> {
    return dagsQuery.listDagTags(this.sql, team, opts);
  }
  async setDagPaused(team: string, dagId: string, paused: boolean): Promise<DagRecord | null> {
    return dags.setDagPaused(this.sql, team, dagId, paused);
  }
  async deactivateDagsOfFile(team: string, fileloc: string, keepDagIds: string[]): Promise<void> {
    return dags.deactivateDagsOfFile(this.sql, team, fileloc, keepDagIds);
  }
  async getDagVersion(versionId: number): Promise<DagSpec | null> {
    return dags.getDagVersion(this.sql, versionId);
  }
  async replaceImportErrors(team: string, filename: string, errors: string[], now: Date): Promise<void> {
    return this.withOutbox(
      errors.length ? IMPORT_ERROR_EVENT : null,
      (sql) => dags.replaceImportErrors(sql, team, filename, errors, now),
      (tx) => webhooks.enqueueWebhookEvents(tx, [importErrorEvent(team, filename, errors, now)], now),
    );
  }
  async listImportErrors(team: string, opts?: ListOptions & { filename_pattern?: string }): Promise<Page<ImportErrorRecord>> {
    return dags.listImportErrors(this.sql, team, opts);
  }
  async getImportError(team: string, id: number): Promise<ImportErrorRecord | null> {
    return dags.getImportError(this.sql, team, id);
  }

  async createDagRun(input: NewDagRun): Promise<DagRunRecord> {
    return runs.createDagRun(this.sql, input);
  }
  async createDagRuns(inputs: readonly NewDagRun[]): Promise<(DagRunRecord | null)[]> {
    return runCreate.createDagRuns(this.sql, inputs);
  }
  async getDagRun(team: string, dagId: string, runId: string): Promise<DagRunRecord | null> {
    return runs.getDagRun(this.sql, team, dagId, runId);
  }
  async getDagRunById(id: number): Promise<DagRunRecord | null> {
    return runs.getDagRunById(this.sql, id);
  }
  async listDagRuns(team: string, filter?: DagRunFilter): Promise<Page<DagRunRecord>> {
    return filterQueries.listDagRunsFiltered(this.sql, team, filter ?? {});
  }
  async readTaskInstanceSummaries(dagRunId: number, taskIds?: readonly string[]): Promise<TaskInstanceSummarySource> {
    return readTaskInstanceSummaries(this.sql, dagRunId, taskIds);
  }

  async findTaskInstances(team: string, filter: TaskInstanceFilter): Promise<Page<TaskInstanceRecord>> {
    return filterQueries.findTaskInstances(this.sql, team, filter);
  }
  async deleteDagRun(team: string, dagId: string, runId: string): Promise<boolean> {
    return filterQueries.deleteDagRun(this.sql, team, dagId, runId);
  }
  async listTaskInstanceTries(tiId: number): Promise<TaskInstanceRecord[]> {
    return filterQueries.listTaskInstanceTries(this.sql, tiId);
  }
  async listTaskInstancesByIds(ids: readonly number[]): Promise<TaskInstanceRecord[]> {
    return filterQueries.listTaskInstancesByIds(this.sql, ids);
  }
  async listRunIdsChangedAfter(cursor: string | null): Promise<{ runIds: number[]; cursor: string }> {
    return runs.listRunIdsChangedAfter(this.sql, cursor);
  }
  async listActiveRunIds(): Promise<number[]> {
    return runs.listActiveRunIds(this.sql);
  }
  async loadRunSnapshots(runIds: number[]): Promise<RunSnapshot[]> {
    return snapshots.loadRunSnapshots(this.sql, runIds);
  }
  async loadTickReads(snapshotIds: number[], gateIds: number[], gateDags: readonly DagRef[] = []): Promise<TickReads> {
    return loadTickReads(this.hot, snapshotIds, gateIds, gateDags);
  }
  async loadRunChanges(
    runIds: number[],
    known: ReadonlyMap<number, KnownTaskInstance>,
    since?: ReadonlyMap<number, ChangeCursor>,
  ): Promise<RunChanges[]> {
    return runs.loadRunChanges(this.sql, runIds, known, since);
  }
  async setDagRunState(id: number, from: DagRunState[], to: DagRunState, now: Date, note?: string): Promise<boolean> {
    return this.withOutbox(
      WebhookInterest.runEventType(to, isTerminalDagRunState(to)),
      (sql) => runs.setDagRunState(sql, id, from, to, now, note),
      (tx, ok) => this.enqueueRuns(tx, [{ id, to }], [ok], now),
    );
  }
  async setDagRunStates(changes: readonly DagRunStateChange[], now: Date): Promise<boolean[]> {
    return this.withOutbox(
      RUN_EVENTS,
      (sql) => runStates.setDagRunStates(sql, changes, now),
      (tx, applied) => this.enqueueRuns(tx, changes, applied, now),
    );
  }

  async getTaskInstance(team: string, dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<TaskInstanceRecord | null> {
    return tis.getTaskInstance(this.sql, team, dagId, runId, taskId, mapIndex);
  }
  async getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null> {
    return tis.getTaskInstanceById(this.sql, id);
  }
  async listTaskInstances(team: string, dagId: string, runId: string, opts?: ListOptions): Promise<Page<TaskInstanceRecord>> {
    return tis.listTaskInstances(this.sql, team, dagId, runId, opts);
  }
  async applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]> {
    // The hot path: outbox rows are written by the transition's own statement (webhooks.transitionsWithOutbox).
    // A hop's batches are small; a sweep's thousands go to the shared pool (ANY over their ids plans by count).
    const sql = transitions.length <= HOT_MAX_TRANSITIONS ? this.hot : this.sql;
    if (!this.webhookInterest.wants(TASK_EVENT)) return tis.applyTransitions(sql, transitions, now);
    return tis.applyTransitions(sql, transitions, now, webhooks.transitionsWithOutbox(now));
  }
  async finishInlineTries(ends: readonly InlineTryEnd[], now: Date): Promise<InlineTryEndResult[]> {
    const settled = settleTryEnds(ends, this.xcomMaxBytes);
    const outbox = this.webhookInterest.wants(TASK_EVENT) ? webhooks.transitionsWithOutbox(now) : undefined;
    const sql = settled.transitions.length <= HOT_MAX_TRANSITIONS ? this.inlineEnds : this.sql;
    const { applied, nextApplied } = ends.some((e) => e.next)
      ? await finishTryEnds(sql, ends, settled, now, outbox)
      : { applied: await tis.applyTransitions(sql, settled.transitions, now, tryEndsStatement(settled, now, outbox)), nextApplied: [] };
    return ends.map((_, i) => ({
      applied: applied[i] === true,
      refused: settled.refused[i] ?? null,
      nextApplied: nextApplied[i] === true,
    }));
  }
  async countActiveTaskInstances(): Promise<ActiveTaskCounts> {
    return tis.countActiveTaskInstances(this.sql);
  }
  async startTry(start: TryStart, now: Date): Promise<TryStartWrite | null> {
    return agentTries.startTry(this.hot, start, now, this.webhookInterest.wants(TASK_EVENT));
  }
  async finishTry(finish: TryFinish, now: Date): Promise<TryWrite | null> {
    return agentTries.finishTry(this.hot, finish, now, this.webhookInterest.wants(TASK_EVENT));
  }
  async appendTryLogs(t: TryIdentity, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<boolean> {
    return agentTries.appendTryLogs(this.hot, t, firstSeq, lines);
  }
  async heartbeat(tiId: number, tryNumber: number, now: Date): Promise<boolean> {
    return tis.heartbeat(this.sql, tiId, tryNumber, now);
  }

  async appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void> {
    return logs.appendLogs(this.sql, tiId, tryNumber, firstSeq, lines);
  }
  async appendLogBatches(batches: readonly LogBatch[]): Promise<void> {
    return logs.appendLogBatches(this.sql, batches);
  }
  async readLogs(tiId: number, tryNumber: number, afterSeq?: number, limit?: number): Promise<LogLineRecord[]> {
    return logs.readLogs(this.sql, tiId, tryNumber, afterSeq, limit);
  }
  async lastLogSeq(tiId: number, tryNumber: number): Promise<number> {
    return logs.lastLogSeq(this.sql, tiId, tryNumber);
  }

  async pushTryXCom(t: TryIdentity, key: XComKey, value: unknown, now: Date): Promise<boolean> {
    return agentTries.pushTryXCom(this.hot, t, key, value, now, this.xcomMaxBytes);
  }
  async insertXCom(key: XComKey, value: unknown, now: Date): Promise<XComRecord | null> {
    return xcom.insertXCom(this.sql, key, value, now, this.xcomMaxBytes);
  }
  async updateXCom(key: XComKey, value: unknown, now: Date): Promise<XComRecord | null> {
    return xcom.updateXCom(this.sql, key, value, now, this.xcomMaxBytes);
  }
  async setXCom(key: XComKey, value: unknown, now: Date): Promise<void> {
    return xcom.setXCom(this.sql, key, value, now, this.xcomMaxBytes);
  }
  async getXCom(key: XComKey): Promise<XComRecord | null> {
    return xcom.getXCom(this.sql, key);
  }
  async listMappedXComs(key: Omit<XComKey, "map_index">): Promise<XComRecord[]> {
    return mapping.listMappedXComs(this.sql, key);
  }
  async expandTaskInstances(expansions: readonly TaskExpansion[], now: Date): Promise<boolean[]> {
    return mapping.expandTaskInstances(this.sql, expansions, now);
  }
  async countActiveByTask(tasks: readonly ActiveTaskKey[]): Promise<number[]> {
    return mapping.countActiveByTask(this.sql, tasks);
  }
  async listXComs(team: string, filter: XComFilter): Promise<Page<XComRecord>> {
    return xcom.listXComs(this.sql, team, filter);
  }

  async getUser(username: string): Promise<UserRecord | null> {
    return users.getUser(this.sql, username);
  }
  async listUsers(): Promise<UserRecord[]> {
    return users.listUsers(this.sql);
  }
  async changeUser(username: string, change: UserChange): Promise<UserChangeResult> {
    return users.changeUser(this.sql, username, change);
  }
  async putUser(user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): Promise<void> {
    return users.putUser(this.sql, user, now, roles);
  }
  async addUser(user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): Promise<boolean> {
    return users.addUser(this.sql, user, now, roles);
  }
  async getUserRoles(username: string): Promise<TeamRole[]> {
    return users.getUserRoles(this.sql, username);
  }

  async getUserAccess(username: string): Promise<TeamRole[] | null> {
    return users.getUserAccess(this.sql, username);
  }
  async setUserRole(username: string, team: string, role: UserRecord["role"] | null): Promise<SetUserRoleResult> {
    return users.setUserRole(this.sql, username, team, role);
  }

  async listTeams(): Promise<TeamRecord[]> {
    return teams.listTeams(this.sql);
  }
  async getTeam(name: string): Promise<TeamRecord | null> {
    return teams.getTeam(this.sql, name);
  }
  async createTeam(input: TeamInput, now: Date): Promise<TeamRecord> {
    return teams.createTeam(this.sql, input, now);
  }
  async updateTeam(name: string, patch: TeamPatch): Promise<TeamRecord | null> {
    return teams.updateTeam(this.sql, name, patch);
  }
  async deleteTeam(name: string): Promise<boolean> {
    return teams.deleteTeam(this.sql, name);
  }

  // --- Pools, clear, mark, depends_on_past (issue 5 part 2) ---
  async listPools(team: string, opts?: ListOptions & { name_pattern?: string }): Promise<Page<PoolRecord>> {
    return pools.listPools(this.sql, team, opts);
  }
  async listPoolUsage(): Promise<PoolOccupancy[]> {
    return pools.listPoolUsage(this.sql);
  }
  async getPool(team: string, name: string): Promise<PoolRecord | null> {
    return pools.getPool(this.sql, team, name);
  }
  async createPool(team: string, pool: PoolInput): Promise<PoolRecord> {
    return pools.createPool(this.sql, team, pool);
  }
  async updatePool(team: string, name: string, patch: Partial<Omit<PoolInput, "name">>): Promise<PoolRecord | null> {
    return pools.updatePool(this.sql, team, name, patch);
  }
  async deletePool(team: string, name: string): Promise<boolean> {
    return pools.deletePool(this.sql, team, name);
  }
  async applyOperatorChange(change: OperatorChange, now: Date): Promise<OperatorChangeApplied> {
    const i = this.webhookInterest;
    return this.withOutbox(
      i.wants(TASK_EVENT) ? TASK_EVENT : i.wants(RUN_EVENTS) ? RUN_EVENTS : null,
      (sql) => operator.applyOperatorChange(sql, change, now),
      async (tx, applied) => {
        await this.enqueueTransitions(tx, operatorTaskChanges(change), [...applied.transitions, ...applied.clears], now);
        await this.enqueueRuns(tx, change.runs ?? [], applied.runs, now);
      },
    );
  }
  async setTaskInstanceNotes(updates: TaskNoteUpdate[]): Promise<boolean[]> {
    return operator.setTaskInstanceNotes(this.sql, updates);
  }
  async listPreviousRunStates(dagRunIds: number[]): Promise<PreviousRunStates[]> {
    return operator.listPreviousRunStates(this.sql, dagRunIds);
  }

  // --- Scheduling (issue 5 part 1) ---
  async listScheduledDags(): Promise<ScheduledDag[]> {
    return scheduling.listScheduledDags(this.sql);
  }
  async loadRunGates(runIds: number[], dags: readonly DagRef[] = []): Promise<RunGates> {
    return scheduling.loadRunGates(this.sql, runIds, dags);
  }
  async createBackfill(
    input: NewBackfill,
  ): Promise<{ backfill: BackfillRecord; created: number[]; skipped: { logical_date: Date; reason: string }[] }> {
    return scheduling.createBackfill(this.sql, input);
  }
  async latestRunStates(team: string, dagId: string, logicalDates: readonly Date[]): Promise<Map<number, DagRunState>> {
    return scheduling.latestRunStates(this.sql, team, dagId, logicalDates);
  }
  async getBackfill(team: string, id: number): Promise<BackfillRecord | null> {
    return scheduling.getBackfill(this.sql, team, id);
  }
  async listBackfills(team: string, opts?: ListOptions & { dag_id?: string }): Promise<Page<BackfillRecord>> {
    return scheduling.listBackfills(this.sql, team, opts);
  }
  async setBackfillPaused(team: string, id: number, paused: boolean, now: Date): Promise<BackfillRecord | null> {
    return scheduling.setBackfillPaused(this.sql, team, id, paused, now);
  }
  async cancelBackfill(team: string, id: number, now: Date): Promise<BackfillRecord | null> {
    return scheduling.cancelBackfill(this.sql, team, id, now);
  }
  async completeFinishedBackfills(now: Date): Promise<number[]> {
    return scheduling.completeFinishedBackfills(this.sql, now);
  }

  // --- Variables & connections (issue 6) ---
  async getVariable(team: string, key: string): Promise<VariableRecord | null> {
    return variables.getVariable(this.sql, team, key);
  }
  async putVariable(team: string, v: VariableRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<VariableRecord> {
    return variables.putVariable(this.sql, team, v, now, opts?.onlyIfAbsent);
  }
  async listVariables(team: string, opts?: ListOptions & { key_pattern?: string }): Promise<Page<VariableRecord>> {
    return variables.listVariables(this.sql, team, opts);
  }
  async deleteVariable(team: string, key: string): Promise<boolean> {
    return variables.deleteVariable(this.sql, team, key);
  }
  async getConnection(team: string, connectionId: string): Promise<ConnectionRecord | null> {
    return variables.getConnection(this.sql, team, connectionId);
  }
  async putConnection(team: string, c: ConnectionRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<ConnectionRecord> {
    return variables.putConnection(this.sql, team, c, now, opts?.onlyIfAbsent);
  }
  async listConnections(team: string, opts?: ListOptions & { id_pattern?: string }): Promise<Page<ConnectionRecord>> {
    return variables.listConnections(this.sql, team, opts);
  }
  async deleteConnection(team: string, connectionId: string): Promise<boolean> {
    return variables.deleteConnection(this.sql, team, connectionId);
  }
  async listAllVariables(slice: Slice): Promise<TeamOwned<VariableRecord>[]> {
    return variables.listAllVariables(this.sql, slice);
  }
  async listAllConnections(slice: Slice): Promise<TeamOwned<ConnectionRecord>[]> {
    return variables.listAllConnections(this.sql, slice);
  }
  async rewriteSecrets(rewrites: SecretRewrite[]): Promise<number> {
    return variables.rewriteSecrets(this.sql, rewrites);
  }

  // --- Reliability (issue 7) ---
  async listAgentLostCandidates(): Promise<ReapTaskCandidate[]> {
    return reapers.listAgentLostCandidates(this.sql);
  }
  async listDispatchLostCandidates(): Promise<ReapTaskCandidate[]> {
    return reapers.listDispatchLostCandidates(this.sql);
  }
  async listOrphanCandidates(): Promise<OrphanCandidate[]> {
    return reapers.listOrphanCandidates(this.sql);
  }
  async reapTaskInstances(reaps: TaskReap[], now: Date): Promise<boolean[]> {
    return this.withOutbox(
      TASK_EVENT,
      (sql) => reapers.reapTaskInstances(sql, reaps, now),
      (tx, applied) =>
        this.enqueueTransitions(
          tx,
          reaps.map((r) => ({ id: r.id, from: [r.from], to: "failed" })),
          applied,
          now,
        ),
    );
  }
  async reapOrphanedRun(id: number, note: string, now: Date): Promise<boolean> {
    return this.withOutbox(
      "dag_run.finished",
      (sql) => reapers.reapOrphanedRun(sql, id, note, now),
      (tx, ok) => this.enqueueRuns(tx, [{ id, to: "failed" }], [ok], now),
    );
  }
  async recordDispatchFailure(tiId: number, tryNumber: number, error: string, now: Date): Promise<number> {
    return reapers.recordDispatchFailure(this.sql, tiId, tryNumber, error, now);
  }
  async deferDispatch(tiId: number, tryNumber: number, nextAt: Date, note: string, now: Date): Promise<boolean> {
    return this.withOutbox(
      TASK_EVENT,
      (sql) => reapers.deferDispatch(sql, tiId, tryNumber, nextAt, note, now),
      (tx, ok) => (ok ? webhooks.enqueueTaskEvents(tx, [tiId], now) : Promise.resolve()),
    );
  }
  async listDispatchBackoffs(now: Date): Promise<DispatchBackoff[]> {
    return reapers.listDispatchBackoffs(this.sql, now);
  }

  // --- Lifecycle event log (src/store/postgres/events.ts) ---
  async appendEvents(list: Record<string, unknown>[], now: Date, notice?: EventAppendNotice): Promise<number[]> {
    return events.appendEvents(this.sql, list, now, notice);
  }
  async readEventsAfter(afterId: number, limit: number): Promise<EventLogRow[]> {
    return events.readEventsAfter(this.sql, afterId, limit);
  }
  async lastEventId(): Promise<number> {
    return events.lastEventId(this.sql);
  }
  async pruneEvents(before: Date, keepLast: number): Promise<number> {
    return events.pruneEvents(this.sql, before, keepLast);
  }

  // --- Callback runner state (src/store/postgres/callbacks.ts) ---
  async getCallbackCursor(name: string): Promise<number | null> {
    return callbacks.getCallbackCursor(this.sql, name);
  }
  async saveCallbackCursor(name: string, lastEventId: number, now: Date): Promise<void> {
    await callbacks.saveCallbackCursor(this.sql, name, lastEventId, now);
  }
  async claimDeadlineAlert(dagRunId: number, now: Date): Promise<boolean> {
    return callbacks.claimDeadlineAlert(this.sql, dagRunId, now);
  }

  // --- The scheduler leader's heartbeat (src/store/postgres/scheduler-heartbeat.ts) ---
  async recordSchedulerHeartbeat(replica: string, at: Date): Promise<void> {
    await schedulerHeartbeat.recordSchedulerHeartbeat(this.sql, replica, at);
  }
  async latestSchedulerHeartbeat(): Promise<{ replica: string; at: Date } | null> {
    return schedulerHeartbeat.latestSchedulerHeartbeat(this.sql);
  }

  // --- The token signing secret's fingerprint (src/store/postgres/signing-fingerprint.ts) ---
  async signingFingerprint(): Promise<StoredSigningFingerprint | null> {
    return signingFingerprint.signingFingerprint(this.sql);
  }
  async recordSigningFingerprint(fingerprint: string, expected: string | null, replica: string, at: Date): Promise<boolean> {
    return signingFingerprint.recordSigningFingerprint(this.sql, fingerprint, expected, replica, at);
  }

  // --- Staging volumes (src/store/postgres/staging.ts) ---
  async recordStagingVolume(volume: NewStagingVolume, now: Date): Promise<boolean> {
    return staging.recordStagingVolume(this.sql, volume, now);
  }
  async markStagingVolumeDeleted(executor: string, name: string, reason: string, now: Date): Promise<boolean> {
    return staging.markStagingVolumeDeleted(this.sql, executor, name, reason, now);
  }
  async prepareSensorWaits(items: readonly { id: number; try_number: number; note: string }[], now: Date): Promise<boolean[]> {
    return sensors.prepareSensorWaits(this.sql, items, now);
  }
  async listDueSensors(now: Date, limit: number): Promise<DueSensor[]> {
    return sensors.listDueSensors(this.sql, now, limit);
  }
  async nextSensorCheckAt(): Promise<Date | null> {
    return sensors.nextSensorCheckAt(this.sql);
  }
  async recordSensorChecks(updates: readonly SensorWaitUpdate[]): Promise<boolean[]> {
    return sensors.recordSensorChecks(this.sql, updates);
  }
  async getSensorProgress(id: number): Promise<SensorProgress | null> {
    return sensors.getSensorProgress(this.sql, id);
  }
  async recordReschedule(u: RescheduleUpdate): Promise<boolean> {
    return sensors.recordReschedule(this.sql, u);
  }
  async externalStates(team: string, dagId: string, logicalDate: Date, taskId: string | null): Promise<(SensorTaskState | DagRunState)[]> {
    return sensors.externalStates(this.sql, team, dagId, logicalDate, taskId);
  }

  async listStagingVolumes(executor: string, opts: { liveOnly?: boolean } = {}): Promise<StagingVolumeRecord[]> {
    return staging.listStagingVolumes(this.sql, executor, opts.liveOnly ?? false);
  }
  async listOrphanStagingVolumes(executor: string): Promise<StagingVolumeRecord[]> {
    return staging.listOrphanStagingVolumes(this.sql, executor);
  }

  // --- Bulk PATCH and the audit log (GET /eventLogs) ---
  async bulkVariables(team: string, actions: BulkAction<VariableRecord>[], now: Date): Promise<BulkActionResult[]> {
    return bulk.bulkVariables(this.sql, team, actions, now);
  }
  async bulkConnections(team: string, actions: BulkAction<ConnectionRecord>[], now: Date): Promise<BulkActionResult[]> {
    return bulk.bulkConnections(this.sql, team, actions, now);
  }
  async bulkPools(team: string, actions: BulkAction<PoolInput>[]): Promise<BulkActionResult[]> {
    return bulk.bulkPools(this.sql, team, actions);
  }
  async appendAuditLog(entry: AuditLogEntry): Promise<number> {
    return auditLog.appendAuditLog(this.sql, entry);
  }
  async getAuditLog(team: string, id: number): Promise<AuditLogRecord | null> {
    return auditLog.getAuditLog(this.sql, team, id);
  }
  async listAuditLog(team: string, filter?: AuditLogFilter): Promise<Page<AuditLogRecord>> {
    return auditLog.listAuditLog(this.sql, team, filter);
  }

  async createWebhook(team: string, input: WebhookInput, now: Date): Promise<WebhookRecord> {
    const created = await webhooks.createWebhook(this.sql, team, input, now);
    await this.refreshWebhookInterest();
    return created;
  }
  async updateWebhook(team: string, id: number, patch: WebhookPatch, now: Date): Promise<WebhookRecord | null> {
    const updated = await webhooks.updateWebhook(this.sql, team, id, patch, now);
    await this.refreshWebhookInterest();
    return updated;
  }
  async deleteWebhook(team: string, id: number): Promise<boolean> {
    const deleted = await webhooks.deleteWebhook(this.sql, team, id);
    await this.refreshWebhookInterest();
    return deleted;
  }
  async getWebhook(team: string, id: number): Promise<WebhookRecord | null> {
    return webhooks.getWebhook(this.sql, team, id);
  }
  async listAllWebhookSecrets(slice: Slice): Promise<StoredWebhookSecret[]> {
    return webhooks.listAllWebhookSecrets(this.sql, slice);
  }
  async listWebhooks(team: string): Promise<WebhookRecord[]> {
    return webhooks.listWebhooks(this.sql, team);
  }
  async listWebhookDeliveries(
    team: string,
    webhookId: number,
    opts?: ListOptions & { state?: WebhookDeliveryState },
  ): Promise<Page<WebhookDeliveryRecord>> {
    return webhooks.listWebhookDeliveries(this.sql, team, webhookId, opts);
  }
  async redeliverWebhookDelivery(team: string, id: number, now: Date): Promise<WebhookDeliveryRecord | null> {
    return webhooks.redeliverWebhookDelivery(this.sql, team, id, now);
  }
  async enqueueWebhookDelivery(team: string, webhookId: number, event: Record<string, unknown>, now: Date): Promise<number | null> {
    return webhooks.enqueueWebhookDelivery(this.sql, team, webhookId, event, now);
  }
  async enqueueWebhookEvents(events: Record<string, unknown>[], now: Date): Promise<number> {
    return webhooks.enqueueWebhookEvents(this.sql, events, now);
  }
  async claimWebhookDeliveries(now: Date, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]> {
    return webhooks.claimWebhookDeliveries(this.sql, now, limit, leaseMs);
  }
  async finishWebhookDelivery(id: number, attempt: number, outcome: WebhookAttemptOutcome, now: Date): Promise<boolean> {
    return webhooks.finishWebhookDelivery(this.sql, id, attempt, outcome, now);
  }
  async pruneWebhookDeliveries(cutoffs: WebhookPruneCutoffs, limit: number): Promise<number> {
    return webhooks.pruneWebhookDeliveries(this.sql, cutoffs, limit);
  }
  async refreshWebhookInterest(): Promise<void> {
    this.webhookInterest.reset(await webhooks.enabledEventTypes(this.sql));
  }
}
