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
  PoolInput,
  PoolRecord,
  PreviousRunStates,
  TaskNoteUpdate,
  BackfillRecord,
  NewBackfill,
  RunGates,
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
import type { Slice } from "../ports/secrets";
import type { KnownTaskInstance } from "../ports/scheduler";
import * as dags from "./dags";
import * as dagsQuery from "./dags-query";
import { ensureTeam } from "../ensure-team";
import type { DagFilter, DagRunStateCount, DagVersionRecord } from "../ports/api-dags";
import * as filterQueries from "./filter-queries";
import * as logs from "./logs";
import { SQLITE_MIGRATIONS, sqliteMigrationTarget } from "./migrations";
import * as runs from "./runs";
import * as tis from "./task-instances";
import * as users from "./users";
import * as xcom from "./xcom";
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
import type { NewStagingVolume, StagingVolumeRecord } from "../ports/staging";
import type { SetUserRoleResult, TeamRole, UserChange, UserChangeResult } from "../ports/users";
import type { TeamPatch } from "../ports/teams";
import * as teams from "./teams";

export const DEFAULT_XCOM_MAX_BYTES = 1024 * 1024;

export interface SqliteStoreOptions {
  /** File path, or `:memory:` for a private in-memory database (tests). */
  path: string;
  /** Largest XCom JSON accepted, in bytes (default 1 MiB). */
  xcomMaxBytes?: number;
}

export class SqliteStore implements Store {
  readonly db: Database;
  private readonly xcomMaxBytes: number;

  constructor(opts: SqliteStoreOptions) {
    this.db = new Database(opts.path, { create: true });
    this.xcomMaxBytes = opts.xcomMaxBytes ?? DEFAULT_XCOM_MAX_BYTES;
    // WAL lets the API read while the scheduler writes; NORMAL is durable across app crashes under WAL and
    // only risks the last commits on power loss; busy_timeout makes a second writer wait instead of failing.
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run("PRAGMA foreign_keys = ON");
    this.db.run("PRAGMA busy_timeout = 5000");
  }

  async migrate(): Promise<void> {
    await runMigrations(SQLITE_MIGRATIONS, sqliteMigrationTarget(this.db));
  }

  async createdAt(): Promise<Date | null> {
    const row = this.db.query<{ applied_at: number }, []>("SELECT applied_at FROM schema_migrations WHERE version = 1").get();
    return row ? new Date(Number(row.applied_at)) : null;
  }

  async close(): Promise<void> {
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
  async listDagVersions(team: string, filter: ListOptions & { dag_id?: string; version_id?: number }): Promise<Page<DagVersionRecord>> {
    return dagsQuery.listDagVersions(this.db, team, filter);
  }
  async countDagRunStates(team: string, dagIds?: string[]): Promise<DagRunStateCount[]> {
    return dagsQuery.countDagRunStates(this.db, team, dagIds);
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
    dags.replaceImportErrors(this.db, team, filename, errors, now);
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
  async getDagRun(team: string, dagId: string, runId: string): Promise<DagRunRecord | null> {
    return runs.getDagRun(this.db, team, dagId, runId);
  }
  async getDagRunById(id: number): Promise<DagRunRecord | null> {
    return runs.getDagRunById(this.db, id);
  }
  async listDagRuns(team: string, filter?: DagRunFilter): Promise<Page<DagRunRecord>> {
    return filterQueries.listDagRunsFiltered(this.db, team, filter ?? {});
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
  async listRunIdsChangedSince(since: Date): Promise<number[]> {
    return runs.listRunIdsChangedSince(this.db, since);
  }
  async listActiveRunIds(): Promise<number[]> {
    return runs.listActiveRunIds(this.db);
  }
  async loadRunSnapshots(runIds: number[]): Promise<RunSnapshot[]> {
    return runs.loadRunSnapshots(this.db, runIds);
  }
  async loadRunChanges(runIds: number[], known: readonly KnownTaskInstance[]): Promise<RunSnapshot[]> {
    return runs.loadRunChanges(this.db, runIds, known);
  }
  async setDagRunState(id: number, from: DagRunState[], to: DagRunState, now: Date, note?: string): Promise<boolean> {
    return runs.setDagRunState(this.db, id, from, to, now, note);
  }

  async getTaskInstance(team: string, dagId: string, runId: string, taskId: string): Promise<TaskInstanceRecord | null> {
    return tis.getTaskInstance(this.db, team, dagId, runId, taskId);
  }
  async getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null> {
    return tis.getTaskInstanceById(this.db, id);
  }
  async listTaskInstances(team: string, dagId: string, runId: string, opts?: ListOptions): Promise<Page<TaskInstanceRecord>> {
    return tis.listTaskInstances(this.db, team, dagId, runId, opts);
  }
  async applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]> {
    return tis.applyTransitions(this.db, transitions, now);
  }
  async countActiveTaskInstances(): Promise<ActiveTaskCounts> {
    return tis.countActiveTaskInstances(this.db);
  }
  async heartbeat(tiId: number, tryNumber: number, now: Date): Promise<boolean> {
    return tis.heartbeat(this.db, tiId, tryNumber, now);
  }

  async appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void> {
    logs.appendLogs(this.db, tiId, tryNumber, firstSeq, lines);
  }
  async readLogs(tiId: number, tryNumber: number, afterSeq?: number, limit?: number): Promise<LogLineRecord[]> {
    return logs.readLogs(this.db, tiId, tryNumber, afterSeq, limit);
  }

  async setXCom(key: XComKey, value: unknown, now: Date): Promise<void> {
    xcom.setXCom(this.db, key, value, now, this.xcomMaxBytes);
  }
  async getXCom(key: XComKey): Promise<XComRecord | null> {
    return xcom.getXCom(this.db, key);
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
  async getUserRoles(username: string): Promise<TeamRole[]> {
    return users.getUserRoles(this.db, username);
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
  async listPoolUsage(): Promise<PoolRecord[]> {
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
  async applyOperatorChange(change: OperatorChange, now: Date): Promise<{ transitions: boolean[]; clears: boolean[]; runs: boolean[] }> {
    return operator.applyOperatorChange(this.db, change, now);
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
  async loadRunGates(runIds: number[]): Promise<RunGates> {
    return scheduling.loadRunGates(this.db, runIds);
  }
  async createBackfill(input: NewBackfill) {
    return scheduling.createBackfill(this.db, input);
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
    return reapers.reapTaskInstances(this.db, reaps, now);
  }
  async reapOrphanedRun(id: number, note: string, now: Date): Promise<boolean> {
    return reapers.reapOrphanedRun(this.db, id, note, now);
  }
  async recordDispatchFailure(tiId: number, tryNumber: number, error: string, now: Date): Promise<number> {
    return reapers.recordDispatchFailure(this.db, tiId, tryNumber, error, now);
  }
  async deferDispatch(tiId: number, tryNumber: number, nextAt: Date, note: string, now: Date): Promise<boolean> {
    return reapers.deferDispatch(this.db, tiId, tryNumber, nextAt, note, now);
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

  // --- Staging volumes (src/store/sqlite/staging.ts) ---
  async recordStagingVolume(volume: NewStagingVolume, now: Date): Promise<boolean> {
    return staging.recordStagingVolume(this.db, volume, now);
  }
  async markStagingVolumeDeleted(executor: string, name: string, reason: string, now: Date): Promise<boolean> {
    return staging.markStagingVolumeDeleted(this.db, executor, name, reason, now);
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
}
