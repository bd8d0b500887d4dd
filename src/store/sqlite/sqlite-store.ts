/**
 * SqliteStore: the Store on one SQLite file (bun:sqlite, WAL), Lite mode's default. bun:sqlite is
 * synchronous; methods are async only to share the Store interface with Postgres. Every statement goes
 * through `db.query`, which caches prepared statements by SQL text. Only SQL lives here: the transition check
 * is guardedStore's, which openStore puts in front.
 *
 * @example
 * const store = new SqliteStore({ path: "/var/lib/leoflow/leoflow.db" });
 * await store.migrate();
 */
import { Database } from "bun:sqlite";
import type {
  DagRunState,
  DagSpec,
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
  VariableRecord,
  ConnectionRecord,
  SecretRewrite,
  TeamOwned,
  TaskInstanceFilter,
  XComFilter,
  OperatorChange,
  OperatorChangeApplied,
  PoolInput,
  PoolOccupancy,
  PoolRecord,
  PreviousRunStates,
  TaskNoteUpdate,
  BackfillRecord,
  NewBackfill,
  RunGates,
  DagRef,
  ActiveTaskCounts,
  ScheduledDag,
  EventLogRow,
  DispatchBackoff,
  OrphanCandidate,
  ReapTaskCandidate,
  TaskReap,
} from "../../domain";
import { runMigrations } from "../migrate";
import type { Store } from "../store";
import type { DagHead } from "../ports/lookups";
import type { StoredSigningFingerprint } from "../ports/signing-fingerprint";
import type { Slice } from "../ports/secrets";
import type { LogBatch } from "../ports/task-log";
import type { InlineTryEnd, InlineTryEndResult } from "../ports/inline-tries";
import * as inlineFinish from "./inline-finish";
import type { ChangeCursor, DagRunStateChange, KnownTaskInstance, RunChanges, TickReads } from "../ports/scheduler";
import * as dags from "./dags";
import * as dagsQuery from "./dags-query";
import { ensureTeam } from "../ensure-team";
import type { DagFilter, DagRunStateCount, DagVersionRecord } from "../ports/api-dags";
import * as filterQueries from "./filter-queries";
import * as logs from "./logs";
import { SQLITE_MIGRATIONS, sqliteMigrationTarget } from "./migrations";
import * as runs from "./runs";
import * as runCreate from "./run-create";
import * as runStates from "./run-states";
import * as tis from "./task-instances";
import * as agentTries from "./agent-tries";
import type { TryFinish, TryIdentity, TryStart, TryStartWrite, TryWrite } from "../ports/agent-rpc";
import * as users from "./users";
import * as xcom from "./xcom";
import * as mapping from "./mapping";
import type { ActiveTaskKey, TaskExpansion } from "../ports/mapping";
import * as pools from "./pools";
import * as operator from "./operator";
import * as scheduling from "./scheduling";
import * as variables from "./variables";
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
import * as webhooks from "./webhooks";
import * as callbacks from "./callbacks";
import * as schedulerHeartbeat from "./scheduler-heartbeat";
import * as signingFingerprint from "./signing-fingerprint";
import { IMPORT_ERROR_EVENT, RUN_EVENTS, TASK_EVENT, WebhookInterest, importErrorEvent, operatorTaskChanges } from "../webhook-interest";
import { roundsOf } from "../transition-rounds";
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
import { isTerminalDagRunState } from "../../domain";
import { WalCheckpointer, type WalCheckpointerOptions } from "./wal-checkpointer";
import { readTaskInstanceSummaries } from "./task-summaries";

export const DEFAULT_XCOM_MAX_BYTES = 1024 * 1024;

export interface SqliteStoreOptions {
  /** File path, or `:memory:` for a private in-memory database (tests). */
  path: string;
  /** Largest XCom JSON accepted, in bytes (default 1 MiB). */
  xcomMaxBytes?: number;
  /** WAL checkpoints on a worker thread instead of inside commits (the server's store; wal-checkpointer.ts). */
  backgroundCheckpoints?: boolean | WalCheckpointerOptions;
}

/**
 * Distinct statement texts `db.query` keeps prepared. Bun's default is 20, least recently used out first, and a
 * busy server runs ~100 texts (a fan-out: each shape of a batched insert is one), so its cache turned over all
 * the time and statements were prepared again and again (insertRows' log inserts were ~2% of the thread).
 * Bun's setting is per process; every store opened here shares it.
 */
const QUERY_CACHE_SIZE = 512;

export class SqliteStore implements Store {
  readonly db: Database;
  private readonly xcomMaxBytes: number;
  /** Which event types enabled webhooks want: gates the outbox INSERTs of state changes. */
  private readonly webhookInterest = new WebhookInterest();
  /** Present when checkpoints run on a worker thread (a file database opened with backgroundCheckpoints). */
  readonly checkpoints: WalCheckpointer | null = null;

  constructor(opts: SqliteStoreOptions) {
    Database.MAX_QUERY_CACHE_SIZE = Math.max(Database.MAX_QUERY_CACHE_SIZE, QUERY_CACHE_SIZE);
    this.db = new Database(opts.path, { create: true });
    this.xcomMaxBytes = opts.xcomMaxBytes ?? DEFAULT_XCOM_MAX_BYTES;
    // WAL lets the API read while the scheduler writes; NORMAL is durable across app crashes under WAL and
    // only risks the last commits on power loss; busy_timeout makes a second writer wait instead of failing.
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run("PRAGMA foreign_keys = ON");
    this.db.run("PRAGMA busy_timeout = 5000");
    const background = opts.backgroundCheckpoints;
    if (background && opts.path !== ":memory:") {
      this.checkpoints = new WalCheckpointer(this.db, opts.path, background === true ? {} : background);
      this.checkpoints.start();
    }
  }

  async migrate(): Promise<void> {
    await runMigrations(SQLITE_MIGRATIONS, sqliteMigrationTarget(this.db));
    await this.refreshWebhookInterest();
  }

  /**
   * A state change and the outbox rows it owes webhooks, in one transaction; when no webhook wants the event
   * type (or the write raises none: null), the write alone, as before webhooks existed.
   */
  private withOutbox<T>(type: string | null, write: () => T, enqueue: (written: T) => void): T {
    if (type === null || !this.webhookInterest.wants(type)) return write();
    return this.db
      .transaction(() => {
        const written = write();
        enqueue(written);
        return written;
      })
      .immediate();
  }
  /** Outbox rows for the task transitions that applied and changed a state. */
  private enqueueTransitions(transitions: readonly { id: number; from: readonly string[]; to: string }[], applied: boolean[], now: Date) {
    const ids = transitions.filter((t, i) => applied[i] && !(t.from.length === 1 && t.from[0] === t.to)).map((t) => t.id);
    webhooks.enqueueTaskEvents(this.db, ids, now);
  }
  /** An operator action (clear, mark) changes task instances and runs: gate on either. */
  private operatorEventType(): string | null {
    return this.webhookInterest.wants(TASK_EVENT) ? TASK_EVENT : this.webhookInterest.wants(RUN_EVENTS) ? RUN_EVENTS : null;
  }
  private enqueueRun(id: number, to: DagRunState, now: Date) {
    const type = WebhookInterest.runEventType(to, isTerminalDagRunState(to));
    if (this.webhookInterest.wants(type)) webhooks.enqueueRunEvent(this.db, id, type, now);
  }

  async createdAt(): Promise<Date | null> {
    const row = this.db.query<{ applied_at: number }, []>("SELECT applied_at FROM schema_migrations WHERE version = 1").get();
    return row ? new Date(Number(row.applied_at)) : null;
  }

  async close(): Promise<void> {
    await this.checkpoints?.stop();
    this.db.close();
  }

  async upsertDag(team: string, input: { spec: DagSpec; fileloc: string; pausedOnCreate: boolean; now: Date }): Promise<DagRecord> {
    return dags.upsertDag(this.db, team, input);
  }
  async ensureTeam(team: string, now: Date): Promise<boolean> {
    return ensureTeam(this, team, now);
  }
  async getDag(team: string, dagId: string): Promise<DagRecord | null> {
    return dags.getDag(this.db, team, dagId);
  }
  async getDagHead(team: string, dagId: string): Promise<DagHead | null> {
    return dags.getDagHead(this.db, team, dagId);
  }
  async listDags(
    team: string,
    opts?: ListOptions & { only_active?: boolean; paused?: boolean; tags?: string[] },
  ): Promise<Page<DagRecord>> {
    return dags.listDags(this.db, team, opts);
  }
  async findDags(team: string, filter: DagFilter): Promise<Page<DagRecord>> {
    return dagsQuery.findDags(this.db, team, filter);
  }
  async setDagsPaused(team: string, filter: DagFilter, paused: boolean): Promise<number> {
    return dagsQuery.setDagsPaused(this.db, team, filter, paused);
  }
  async deleteDag(team: string, dagId: string): Promise<"deleted" | "not_found" | "running"> {
    return dagsQuery.deleteDag(this.db, team, dagId);
  }
  async listDagVersions(
    team: string,
    filter: ListOptions & { dag_id?: string; version_id?: number; version_number?: number },
  ): Promise<Page<DagVersionRecord>> {
    return dagsQuery.listDagVersions(this.db, team, filter);
  }
  async countDagRunStates(team: string, dagIds?: string[]): Promise<DagRunStateCount[]> {
    return dagsQuery.countDagRunStates(this.db, team, dagIds);
  }
  async latestScheduledLogicalDates(team: string, dagIds: readonly string[]): Promise<Map<string, Date>> {
    return dagsQuery.latestScheduledLogicalDates(this.db, team, dagIds);
  }
  async listDagTags(team: string, opts: ListOptions & { pattern?: string }): Promise<Page<string>> {
    return dagsQuery.listDagTags(this.db, team, opts);
  }
  async setDagPaused(team: string, dagId: string, paused: boolean): Promise<DagRecord | null> {
    return dags.setDagPaused(this.db, team, dagId, paused);
  }
  async deactivateDagsOfFile(team: string, fileloc: string, keepDagIds: string[]): Promise<void> {
    dags.deactivateDagsOfFile(this.db, team, fileloc, keepDagIds);
  }
  async getDagVersion(versionId: number): Promise<DagSpec | null> {
    return dags.getDagVersion(this.db, versionId);
  }
  async replaceImportErrors(team: string, filename: string, errors: string[], now: Date): Promise<void> {
    this.withOutbox(
      errors.length ? IMPORT_ERROR_EVENT : null,
      () => dags.replaceImportErrors(this.db, team, filename, errors, now),
      () => webhooks.enqueueWebhookEvents(this.db, [importErrorEvent(team, filename, errors, now)], now),
    );
  }
  async listImportErrors(team: string, opts?: ListOptions & { filename_pattern?: string }): Promise<Page<ImportErrorRecord>> {
    return dags.listImportErrors(this.db, team, opts);
  }
  async getImportError(team: string, id: number): Promise<ImportErrorRecord | null> {
    return dags.getImportError(this.db, team, id);
  }

  async createDagRun(input: NewDagRun): Promise<DagRunRecord> {
    return runs.createDagRun(this.db, input);
  }
  async createDagRuns(inputs: readonly NewDagRun[]): Promise<(DagRunRecord | null)[]> {
    return runCreate.createDagRuns(this.db, inputs);
  }
  async getDagRun(team: string, dagId: string, runId: string): Promise<DagRunRecord | null> {
    return runs.getDagRun(this.db, team, dagId, runId);
  }
  async getDagRunById(id: number): Promise<DagRunRecord | null> {
    return runs.getDagRunById(this.db, id);
  }
  async listDagRuns(team: string, filter?: DagRunFilter): Promise<Page<DagRunRecord>> {
    return filterQueries.listDagRunsFiltered(this.db, team, filter ?? {});
  }
  async readTaskInstanceSummaries(dagRunId: number, taskIds?: readonly string[]): Promise<TaskInstanceSummarySource> {
    return readTaskInstanceSummaries(this.db, dagRunId, taskIds);
  }

  async findTaskInstances(team: string, filter: TaskInstanceFilter): Promise<Page<TaskInstanceRecord>> {
    return filterQueries.findTaskInstances(this.db, team, filter);
  }
  async deleteDagRun(team: string, dagId: string, runId: string): Promise<boolean> {
    return filterQueries.deleteDagRun(this.db, team, dagId, runId);
  }
  async listTaskInstanceTries(tiId: number): Promise<TaskInstanceRecord[]> {
    return filterQueries.listTaskInstanceTries(this.db, tiId);
  }
  async listTaskInstancesByIds(ids: readonly number[]): Promise<TaskInstanceRecord[]> {
    return filterQueries.listTaskInstancesByIds(this.db, ids);
  }
  async listRunIdsChangedAfter(cursor: string | null): Promise<{ runIds: number[]; cursor: string }> {
    return runs.listRunIdsChangedAfter(this.db, cursor);
  }
  async listActiveRunIds(): Promise<number[]> {
    return runs.listActiveRunIds(this.db);
  }
  async loadRunSnapshots(runIds: number[]): Promise<RunSnapshot[]> {
    return runs.loadRunSnapshots(this.db, runIds);
  }
  async loadTickReads(snapshotIds: number[], gateIds: number[], gateDags: readonly DagRef[] = []): Promise<TickReads> {
    return {
      snapshots: runs.loadRunSnapshots(this.db, snapshotIds),
      gates: scheduling.loadRunGates(this.db, gateIds, gateDags),
      ...pools.loadCapacity(this.db),
    };
  }
  async loadRunChanges(
    runIds: number[],
    known: ReadonlyMap<number, KnownTaskInstance>,
    since?: ReadonlyMap<number, ChangeCursor>,
  ): Promise<RunChanges[]> {
    return runs.loadRunChanges(this.db, runIds, known, since);
  }
  async setDagRunState(id: number, from: DagRunState[], to: DagRunState, now: Date, note?: string): Promise<boolean> {
    const type = WebhookInterest.runEventType(to, isTerminalDagRunState(to));
    return this.withOutbox(
      type,
      () => runs.setDagRunState(this.db, id, from, to, now, note),
      (ok) => ok && webhooks.enqueueRunEvent(this.db, id, type, now),
    );
  }
  async setDagRunStates(changes: readonly DagRunStateChange[], now: Date): Promise<boolean[]> {
    return this.withOutbox(
      RUN_EVENTS,
      () => runStates.setDagRunStates(this.db, changes, now),
      (applied) => {
        for (const [i, c] of changes.entries()) if (applied[i]) this.enqueueRun(c.id, c.to, now);
      },
    );
  }

  async getTaskInstance(team: string, dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<TaskInstanceRecord | null> {
    return tis.getTaskInstance(this.db, team, dagId, runId, taskId, mapIndex);
  }
  async getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null> {
    return tis.getTaskInstanceById(this.db, id);
  }
  async listTaskInstances(team: string, dagId: string, runId: string, opts?: ListOptions): Promise<Page<TaskInstanceRecord>> {
    return tis.listTaskInstances(this.db, team, dagId, runId, opts);
  }
  async applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]> {
    return this.transitionsWithOutbox(transitions, now);
  }
  async finishInlineTries(ends: readonly InlineTryEnd[], now: Date): Promise<InlineTryEndResult[]> {
    const settled = inlineFinish.settleTryEnds(ends, this.xcomMaxBytes);
    const { applied, nextApplied } = inlineFinish.writeTryEnds(
      this.db,
      ends,
      settled,
      now,
      (ts) => this.transitionsWithOutbox(ts, now),
      !this.webhookInterest.wants(TASK_EVENT),
    );
    return ends.map((_, i) => ({
      applied: applied[i] === true,
      refused: settled.refused[i] ?? null,
      nextApplied: nextApplied[i] === true,
    }));
  }
  private transitionsWithOutbox(transitions: TaskTransition[], now: Date): boolean[] {
    // Outbox rows are built from a row's new state: a row changed twice in one batch (an inline start: into
    // scheduled, then running) is announced after each change, round by round.
    const rounds = roundsOf(transitions);
    if (rounds.length > 1 && this.webhookInterest.wants(TASK_EVENT))
      return this.db
        .transaction(() => {
          const applied = transitions.map(() => false);
          for (const round of rounds) {
            const batch = round.map((i) => transitions[i]!);
            const done = tis.applyTransitions(this.db, batch, now);
            for (const [k, i] of round.entries()) applied[i] = done[k] === true;
            this.enqueueTransitions(batch, done, now);
          }
          return applied;
        })
        .immediate();
    return this.withOutbox(
      TASK_EVENT,
      () => tis.applyTransitions(this.db, transitions, now),
      (applied) => this.enqueueTransitions(transitions, applied, now),
    );
  }
  async countActiveTaskInstances(): Promise<ActiveTaskCounts> {
    return tis.countActiveTaskInstances(this.db);
  }
  async startTry(start: TryStart, now: Date): Promise<TryStartWrite | null> {
    return agentTries.startTry(this.db, start, now, (transitions) => this.transitionsWithOutbox(transitions, now));
  }
  async finishTry(finish: TryFinish, now: Date): Promise<TryWrite | null> {
    return agentTries.finishTry(
      this.db,
      finish,
      now,
      (transitions) => this.transitionsWithOutbox(transitions, now),
      !this.webhookInterest.wants(TASK_EVENT),
    );
  }
  async appendTryLogs(t: TryIdentity, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<boolean> {
    return agentTries.appendTryLogs(this.db, t, firstSeq, lines);
  }
  async heartbeat(tiId: number, tryNumber: number, now: Date): Promise<boolean> {
    return tis.heartbeat(this.db, tiId, tryNumber, now);
  }

  async appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void> {
    logs.appendLogs(this.db, tiId, tryNumber, firstSeq, lines);
  }
  async appendLogBatches(batches: readonly LogBatch[]): Promise<void> {
    logs.appendLogBatches(this.db, batches);
  }
  async readLogs(tiId: number, tryNumber: number, afterSeq?: number, limit?: number): Promise<LogLineRecord[]> {
    return logs.readLogs(this.db, tiId, tryNumber, afterSeq, limit);
  }
  async lastLogSeq(tiId: number, tryNumber: number): Promise<number> {
    return logs.lastLogSeq(this.db, tiId, tryNumber);
  }

  async pushTryXCom(t: TryIdentity, key: XComKey, value: unknown, now: Date): Promise<boolean> {
    return agentTries.pushTryXCom(this.db, t, key, value, now, this.xcomMaxBytes);
  }
  async insertXCom(key: XComKey, value: unknown, now: Date): Promise<XComRecord | null> {
    return xcom.insertXCom(this.db, key, value, now, this.xcomMaxBytes);
  }
  async updateXCom(key: XComKey, value: unknown, now: Date): Promise<XComRecord | null> {
    return xcom.updateXCom(this.db, key, value, now, this.xcomMaxBytes);
  }
  async setXCom(key: XComKey, value: unknown, now: Date): Promise<void> {
    xcom.setXCom(this.db, key, value, now, this.xcomMaxBytes);
  }
  async getXCom(key: XComKey): Promise<XComRecord | null> {
    return xcom.getXCom(this.db, key);
  }
  async listMappedXComs(key: Omit<XComKey, "map_index">): Promise<XComRecord[]> {
    return mapping.listMappedXComs(this.db, key);
  }
  async expandTaskInstances(expansions: readonly TaskExpansion[], now: Date): Promise<boolean[]> {
    return mapping.expandTaskInstances(this.db, expansions, now);
  }
  async countActiveByTask(tasks: readonly ActiveTaskKey[]): Promise<number[]> {
    return mapping.countActiveByTask(this.db, tasks);
  }
  async listXComs(team: string, filter: XComFilter): Promise<Page<XComRecord>> {
    return xcom.listXComs(this.db, team, filter);
  }

  async getUser(username: string): Promise<UserRecord | null> {
    return users.getUser(this.db, username);
  }
  async listUsers(): Promise<UserRecord[]> {
    return users.listUsers(this.db);
  }
  async changeUser(username: string, change: UserChange): Promise<UserChangeResult> {
    return users.changeUser(this.db, username, change);
  }
  async putUser(user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): Promise<void> {
    users.putUser(this.db, user, now, roles);
  }
  async addUser(user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): Promise<boolean> {
    return users.addUser(this.db, user, now, roles);
  }
  async getUserRoles(username: string): Promise<TeamRole[]> {
    return users.getUserRoles(this.db, username);
  }

  async getUserAccess(username: string): Promise<TeamRole[] | null> {
    return users.getUserAccess(this.db, username);
  }
  async setUserRole(username: string, team: string, role: UserRecord["role"] | null): Promise<SetUserRoleResult> {
    return users.setUserRole(this.db, username, team, role);
  }

  async listTeams(): Promise<TeamRecord[]> {
    return teams.listTeams(this.db);
  }
  async getTeam(name: string): Promise<TeamRecord | null> {
    return teams.getTeam(this.db, name);
  }
  async createTeam(input: TeamInput, now: Date): Promise<TeamRecord> {
    return teams.createTeam(this.db, input, now);
  }
  async updateTeam(name: string, patch: TeamPatch): Promise<TeamRecord | null> {
    return teams.updateTeam(this.db, name, patch);
  }
  async deleteTeam(name: string): Promise<boolean> {
    return teams.deleteTeam(this.db, name);
  }

  // --- Pools, clear, mark, depends_on_past (issue 5 part 2) ---
  async listPools(team: string, opts?: ListOptions & { name_pattern?: string }): Promise<Page<PoolRecord>> {
    return pools.listPools(this.db, team, opts);
  }
  async listPoolUsage(): Promise<PoolOccupancy[]> {
    return pools.listPoolUsage(this.db);
  }
  async getPool(team: string, name: string): Promise<PoolRecord | null> {
    return pools.getPool(this.db, team, name);
  }
  async createPool(team: string, pool: PoolInput): Promise<PoolRecord> {
    return pools.createPool(this.db, team, pool);
  }
  async updatePool(team: string, name: string, patch: Partial<Omit<PoolInput, "name">>): Promise<PoolRecord | null> {
    return pools.updatePool(this.db, team, name, patch);
  }
  async deletePool(team: string, name: string): Promise<boolean> {
    return pools.deletePool(this.db, team, name);
  }
  async applyOperatorChange(change: OperatorChange, now: Date): Promise<OperatorChangeApplied> {
    return this.withOutbox(
      this.operatorEventType(),
      () => operator.applyOperatorChange(this.db, change, now),
      (applied) => {
        this.enqueueTransitions(operatorTaskChanges(change), [...applied.transitions, ...applied.clears], now);
        for (const [i, r] of (change.runs ?? []).entries()) if (applied.runs[i]) this.enqueueRun(r.id, r.to, now);
      },
    );
  }
  async setTaskInstanceNotes(updates: TaskNoteUpdate[]): Promise<boolean[]> {
    return operator.setTaskInstanceNotes(this.db, updates);
  }
  async listPreviousRunStates(dagRunIds: number[]): Promise<PreviousRunStates[]> {
    return operator.listPreviousRunStates(this.db, dagRunIds);
  }

  // --- Scheduling (issue 5 part 1) ---
  async listScheduledDags(): Promise<ScheduledDag[]> {
    return scheduling.listScheduledDags(this.db);
  }
  async loadRunGates(runIds: number[], dags: readonly DagRef[] = []): Promise<RunGates> {
    return scheduling.loadRunGates(this.db, runIds, dags);
  }
  async createBackfill(input: NewBackfill) {
    return scheduling.createBackfill(this.db, input);
  }
  async latestRunStates(team: string, dagId: string, logicalDates: readonly Date[]): Promise<Map<number, DagRunState>> {
    return scheduling.latestRunStates(this.db, team, dagId, logicalDates);
  }
  async getBackfill(team: string, id: number): Promise<BackfillRecord | null> {
    return scheduling.getBackfill(this.db, team, id);
  }
  async listBackfills(team: string, opts?: ListOptions & { dag_id?: string }): Promise<Page<BackfillRecord>> {
    return scheduling.listBackfills(this.db, team, opts);
  }
  async setBackfillPaused(team: string, id: number, paused: boolean, now: Date): Promise<BackfillRecord | null> {
    return scheduling.setBackfillPaused(this.db, team, id, paused, now);
  }
  async cancelBackfill(team: string, id: number, now: Date): Promise<BackfillRecord | null> {
    return scheduling.cancelBackfill(this.db, team, id, now);
  }
  async completeFinishedBackfills(now: Date): Promise<number[]> {
    return scheduling.completeFinishedBackfills(this.db, now);
  }

  // --- Variables & connections ---
  async getVariable(team: string, key: string): Promise<VariableRecord | null> {
    return variables.getVariable(this.db, team, key);
  }
  async putVariable(team: string, v: VariableRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<VariableRecord> {
    return variables.putVariable(this.db, team, v, now, opts?.onlyIfAbsent);
  }
  async listVariables(team: string, opts?: ListOptions & { key_pattern?: string }): Promise<Page<VariableRecord>> {
    return variables.listVariables(this.db, team, opts);
  }
  async deleteVariable(team: string, key: string): Promise<boolean> {
    return variables.deleteVariable(this.db, team, key);
  }
  async getConnection(team: string, connectionId: string): Promise<ConnectionRecord | null> {
    return variables.getConnection(this.db, team, connectionId);
  }
  async putConnection(team: string, c: ConnectionRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<ConnectionRecord> {
    return variables.putConnection(this.db, team, c, now, opts?.onlyIfAbsent);
  }
  async listConnections(team: string, opts?: ListOptions & { id_pattern?: string }): Promise<Page<ConnectionRecord>> {
    return variables.listConnections(this.db, team, opts);
  }
  async deleteConnection(team: string, connectionId: string): Promise<boolean> {
    return variables.deleteConnection(this.db, team, connectionId);
  }
  async listAllVariables(slice: Slice): Promise<TeamOwned<VariableRecord>[]> {
    return variables.listAllVariables(this.db, slice);
  }
  async listAllConnections(slice: Slice): Promise<TeamOwned<ConnectionRecord>[]> {
    return variables.listAllConnections(this.db, slice);
  }
  async rewriteSecrets(rewrites: SecretRewrite[]): Promise<number> {
    return variables.rewriteSecrets(this.db, rewrites);
  }

  // --- Reliability (issue 7) ---
  async listAgentLostCandidates(): Promise<ReapTaskCandidate[]> {
    return reapers.listAgentLostCandidates(this.db);
  }
  async listDispatchLostCandidates(): Promise<ReapTaskCandidate[]> {
    return reapers.listDispatchLostCandidates(this.db);
  }
  async listOrphanCandidates(): Promise<OrphanCandidate[]> {
    return reapers.listOrphanCandidates(this.db);
  }
  async reapTaskInstances(reaps: TaskReap[], now: Date): Promise<boolean[]> {
    return this.withOutbox(
      TASK_EVENT,
      () => reapers.reapTaskInstances(this.db, reaps, now),
      (applied) =>
        this.enqueueTransitions(
          reaps.map((r) => ({ id: r.id, from: [r.from], to: "failed" })),
          applied,
          now,
        ),
    );
  }
  async reapOrphanedRun(id: number, note: string, now: Date): Promise<boolean> {
    return this.withOutbox(
      "dag_run.finished",
      () => reapers.reapOrphanedRun(this.db, id, note, now),
      (ok) => ok && webhooks.enqueueRunEvent(this.db, id, "dag_run.finished", now),
    );
  }
  async recordDispatchFailure(tiId: number, tryNumber: number, error: string, now: Date): Promise<number> {
    return reapers.recordDispatchFailure(this.db, tiId, tryNumber, error, now);
  }
  async deferDispatch(tiId: number, tryNumber: number, nextAt: Date, note: string, now: Date): Promise<boolean> {
    return this.withOutbox(
      TASK_EVENT,
      () => reapers.deferDispatch(this.db, tiId, tryNumber, nextAt, note, now),
      (ok) => ok && webhooks.enqueueTaskEvents(this.db, [tiId], now),
    );
  }
  async listDispatchBackoffs(now: Date): Promise<DispatchBackoff[]> {
    return reapers.listDispatchBackoffs(this.db, now);
  }

  // --- Lifecycle event log (src/store/sqlite/events.ts) ---
  async appendEvents(list: Record<string, unknown>[], now: Date): Promise<number[]> {
    return events.appendEvents(this.db, list, now);
  }
  async readEventsAfter(afterId: number, limit: number): Promise<EventLogRow[]> {
    return events.readEventsAfter(this.db, afterId, limit);
  }
  async lastEventId(): Promise<number> {
    return events.lastEventId(this.db);
  }
  async pruneEvents(before: Date, keepLast: number): Promise<number> {
    return events.pruneEvents(this.db, before, keepLast);
  }

  // --- Callback runner state (src/store/sqlite/callbacks.ts) ---
  async getCallbackCursor(name: string): Promise<number | null> {
    return callbacks.getCallbackCursor(this.db, name);
  }
  async saveCallbackCursor(name: string, lastEventId: number, now: Date): Promise<void> {
    callbacks.saveCallbackCursor(this.db, name, lastEventId, now);
  }
  async claimDeadlineAlert(dagRunId: number, now: Date): Promise<boolean> {
    return callbacks.claimDeadlineAlert(this.db, dagRunId, now);
  }

  // --- The scheduler leader's heartbeat (src/store/sqlite/scheduler-heartbeat.ts) ---
  async recordSchedulerHeartbeat(replica: string, at: Date): Promise<void> {
    schedulerHeartbeat.recordSchedulerHeartbeat(this.db, replica, at);
  }
  async latestSchedulerHeartbeat(): Promise<{ replica: string; at: Date } | null> {
    return schedulerHeartbeat.latestSchedulerHeartbeat(this.db);
  }

  // --- The token signing secret's fingerprint (src/store/sqlite/signing-fingerprint.ts) ---
  async signingFingerprint(): Promise<StoredSigningFingerprint | null> {
    return signingFingerprint.signingFingerprint(this.db);
  }
  async recordSigningFingerprint(fingerprint: string, expected: string | null, replica: string, at: Date): Promise<boolean> {
    return signingFingerprint.recordSigningFingerprint(this.db, fingerprint, expected, replica, at);
  }

  // --- Staging volumes (src/store/sqlite/staging.ts) ---
  async recordStagingVolume(volume: NewStagingVolume, now: Date): Promise<boolean> {
    return staging.recordStagingVolume(this.db, volume, now);
  }
  async markStagingVolumeDeleted(executor: string, name: string, reason: string, now: Date): Promise<boolean> {
    return staging.markStagingVolumeDeleted(this.db, executor, name, reason, now);
  }
  async prepareSensorWaits(items: readonly { id: number; try_number: number; note: string }[], now: Date): Promise<boolean[]> {
    return sensors.prepareSensorWaits(this.db, items, now);
  }
  async listDueSensors(now: Date, limit: number): Promise<DueSensor[]> {
    return sensors.listDueSensors(this.db, now, limit);
  }
  async nextSensorCheckAt(): Promise<Date | null> {
    return sensors.nextSensorCheckAt(this.db);
  }
  async recordSensorChecks(updates: readonly SensorWaitUpdate[]): Promise<boolean[]> {
    return sensors.recordSensorChecks(this.db, updates);
  }
  async getSensorProgress(id: number): Promise<SensorProgress | null> {
    return sensors.getSensorProgress(this.db, id);
  }
  async recordReschedule(u: RescheduleUpdate): Promise<boolean> {
    return sensors.recordReschedule(this.db, u);
  }
  async externalStates(team: string, dagId: string, logicalDate: Date, taskId: string | null): Promise<(SensorTaskState | DagRunState)[]> {
    return sensors.externalStates(this.db, team, dagId, logicalDate, taskId);
  }

  async listStagingVolumes(executor: string, opts: { liveOnly?: boolean } = {}): Promise<StagingVolumeRecord[]> {
    return staging.listStagingVolumes(this.db, executor, opts.liveOnly ?? false);
  }
  async listOrphanStagingVolumes(executor: string): Promise<StagingVolumeRecord[]> {
    return staging.listOrphanStagingVolumes(this.db, executor);
  }

  // --- Bulk PATCH and the audit log (GET /eventLogs) ---
  async bulkVariables(team: string, actions: BulkAction<VariableRecord>[], now: Date): Promise<BulkActionResult[]> {
    return bulk.bulkVariables(this.db, team, actions, now);
  }
  async bulkConnections(team: string, actions: BulkAction<ConnectionRecord>[], now: Date): Promise<BulkActionResult[]> {
    return bulk.bulkConnections(this.db, team, actions, now);
  }
  async bulkPools(team: string, actions: BulkAction<PoolInput>[]): Promise<BulkActionResult[]> {
    return bulk.bulkPools(this.db, team, actions);
  }
  async appendAuditLog(entry: AuditLogEntry): Promise<number> {
    return auditLog.appendAuditLog(this.db, entry);
  }
  async getAuditLog(team: string, id: number): Promise<AuditLogRecord | null> {
    return auditLog.getAuditLog(this.db, team, id);
  }
  async listAuditLog(team: string, filter?: AuditLogFilter): Promise<Page<AuditLogRecord>> {
    return auditLog.listAuditLog(this.db, team, filter);
  }

  async createWebhook(team: string, input: WebhookInput, now: Date): Promise<WebhookRecord> {
    const created = webhooks.createWebhook(this.db, team, input, now);
    await this.refreshWebhookInterest();
    return created;
  }
  async updateWebhook(team: string, id: number, patch: WebhookPatch, now: Date): Promise<WebhookRecord | null> {
    const updated = webhooks.updateWebhook(this.db, team, id, patch, now);
    await this.refreshWebhookInterest();
    return updated;
  }
  async deleteWebhook(team: string, id: number): Promise<boolean> {
    const deleted = webhooks.deleteWebhook(this.db, team, id);
    await this.refreshWebhookInterest();
    return deleted;
  }
  async listAllWebhookSecrets(slice: Slice): Promise<StoredWebhookSecret[]> {
    return webhooks.listAllWebhookSecrets(this.db, slice);
  }
  async getWebhook(team: string, id: number): Promise<WebhookRecord | null> {
    return webhooks.getWebhook(this.db, team, id);
  }
  async listWebhooks(team: string): Promise<WebhookRecord[]> {
    return webhooks.listWebhooks(this.db, team);
  }
  async listWebhookDeliveries(
    team: string,
    webhookId: number,
    opts?: ListOptions & { state?: WebhookDeliveryState },
  ): Promise<Page<WebhookDeliveryRecord>> {
    return webhooks.listWebhookDeliveries(this.db, team, webhookId, opts);
  }
  async redeliverWebhookDelivery(team: string, id: number, now: Date): Promise<WebhookDeliveryRecord | null> {
    return webhooks.redeliverWebhookDelivery(this.db, team, id, now);
  }
  async enqueueWebhookDelivery(team: string, webhookId: number, event: Record<string, unknown>, now: Date): Promise<number | null> {
    return webhooks.enqueueWebhookDelivery(this.db, team, webhookId, event, now);
  }
  async enqueueWebhookEvents(events: Record<string, unknown>[], now: Date): Promise<number> {
    return webhooks.enqueueWebhookEvents(this.db, events, now);
  }
  async claimWebhookDeliveries(now: Date, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]> {
    return webhooks.claimWebhookDeliveries(this.db, now, limit, leaseMs);
  }
  async finishWebhookDelivery(id: number, attempt: number, outcome: WebhookAttemptOutcome, now: Date): Promise<boolean> {
    return webhooks.finishWebhookDelivery(this.db, id, attempt, outcome, now);
  }
  async pruneWebhookDeliveries(cutoffs: WebhookPruneCutoffs, limit: number): Promise<number> {
    return webhooks.pruneWebhookDeliveries(this.db, cutoffs, limit);
  }
  async refreshWebhookInterest(): Promise<void> {
    this.webhookInterest.reset(webhooks.enabledEventTypes(this.db));
  }
}
