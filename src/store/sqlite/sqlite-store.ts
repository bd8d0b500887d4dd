/**
 * SqliteStore: the Store on one SQLite file (bun:sqlite, WAL), Lite mode's default. bun:sqlite is
 * synchronous; methods are async only to share the Store interface with Postgres. Every statement goes
 * through `db.query`, which caches prepared statements by SQL text.
 *
 * @example
 * const store = new SqliteStore({ path: "/var/lib/leoflow/leoflow.db" });
 * await store.migrate();
 */
import { Database } from "bun:sqlite";
import type { DagRunState, DagSpec } from "../../domain";
import { runMigrations } from "../migrate";
import type {
  DagRecord,
  DagRunFilter,
  DagRunRecord,
  ImportErrorRecord,
  ListOptions,
  LogLineRecord,
  NewDagRun,
  Page,
  RunSnapshot,
  Store,
  TaskInstanceRecord,
  TaskTransition,
  UserRecord,
  XComKey,
  XComRecord,
} from "../store";
import * as dags from "./dags";
import * as logs from "./logs";
import { SQLITE_MIGRATIONS, sqliteMigrationTarget } from "./migrations";
import * as runs from "./runs";
import * as tis from "./task-instances";
import * as users from "./users";
import * as xcom from "./xcom";

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

  async close(): Promise<void> {
    this.db.close();
  }

  async upsertDag(input: { spec: DagSpec; fileloc: string; pausedOnCreate: boolean; now: Date }): Promise<DagRecord> {
    return dags.upsertDag(this.db, input);
  }
  async getDag(dagId: string): Promise<DagRecord | null> {
    return dags.getDag(this.db, dagId);
  }
  async listDags(opts?: ListOptions & { only_active?: boolean; paused?: boolean; tags?: string[] }): Promise<Page<DagRecord>> {
    return dags.listDags(this.db, opts);
  }
  async setDagPaused(dagId: string, paused: boolean): Promise<DagRecord | null> {
    return dags.setDagPaused(this.db, dagId, paused);
  }
  async deactivateDagsOfFile(fileloc: string, keepDagIds: string[]): Promise<void> {
    dags.deactivateDagsOfFile(this.db, fileloc, keepDagIds);
  }
  async getDagVersion(versionId: number): Promise<DagSpec | null> {
    return dags.getDagVersion(this.db, versionId);
  }
  async replaceImportErrors(filename: string, errors: string[], now: Date): Promise<void> {
    dags.replaceImportErrors(this.db, filename, errors, now);
  }
  async listImportErrors(opts?: ListOptions): Promise<Page<ImportErrorRecord>> {
    return dags.listImportErrors(this.db, opts);
  }

  async createDagRun(input: NewDagRun): Promise<DagRunRecord> {
    return runs.createDagRun(this.db, input);
  }
  async getDagRun(dagId: string, runId: string): Promise<DagRunRecord | null> {
    return runs.getDagRun(this.db, dagId, runId);
  }
  async getDagRunById(id: number): Promise<DagRunRecord | null> {
    return runs.getDagRunById(this.db, id);
  }
  async listDagRuns(filter?: DagRunFilter): Promise<Page<DagRunRecord>> {
    return runs.listDagRuns(this.db, filter);
  }
  async listActiveRunIds(): Promise<number[]> {
    return runs.listActiveRunIds(this.db);
  }
  async loadRunSnapshots(runIds: number[]): Promise<RunSnapshot[]> {
    return runs.loadRunSnapshots(this.db, runIds);
  }
  async setDagRunState(id: number, from: DagRunState[], to: DagRunState, now: Date, note?: string): Promise<boolean> {
    return runs.setDagRunState(this.db, id, from, to, now, note);
  }

  async getTaskInstance(dagId: string, runId: string, taskId: string): Promise<TaskInstanceRecord | null> {
    return tis.getTaskInstance(this.db, dagId, runId, taskId);
  }
  async getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null> {
    return tis.getTaskInstanceById(this.db, id);
  }
  async listTaskInstances(dagId: string, runId: string, opts?: ListOptions): Promise<Page<TaskInstanceRecord>> {
    return tis.listTaskInstances(this.db, dagId, runId, opts);
  }
  async applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]> {
    return tis.applyTransitions(this.db, transitions, now);
  }
  async countActiveTaskInstances(): Promise<Map<string, number>> {
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
  async listXComs(filter: { dag_id: string; run_id: string; task_id?: string; key?: string } & ListOptions): Promise<Page<XComRecord>> {
    return xcom.listXComs(this.db, filter);
  }
  async deleteXComs(dagId: string, runId: string, taskId: string): Promise<void> {
    xcom.deleteXComs(this.db, dagId, runId, taskId);
  }

  async getUser(username: string): Promise<UserRecord | null> {
    return users.getUser(this.db, username);
  }
  async putUser(user: Omit<UserRecord, "created_at">, now: Date): Promise<void> {
    users.putUser(this.db, user, now);
  }
}
