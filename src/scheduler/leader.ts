/**
 * PgLeaderLock: scheduler leadership as a session-level Postgres advisory lock, held on a DEDICATED
 * single connection (never the store's pool): the lock belongs to that session, so the connection must
 * stay the same one for as long as this replica leads.
 *
 * @example
 * const lock = new PgLeaderLock("postgres://postgres@127.0.0.1:5432/leoflow");
 * if (await lock.tryAcquire()) { … lead …; if (!(await lock.holdsLock())) stepDown(); }
 */
import type postgres from "postgres";
import type { LeaderLock } from "./leadership";
import { postgresDriver } from "../store";

/** The advisory-lock id gating scheduler leadership: "LeoFlow" in hex, as in the Go implementation. */
export const LEADER_LOCK_ID = 0x4c656f466c6f77n;

/**
 * The lock id for the deployment living in `schema`. Advisory locks are per database, and several
 * deployments (or test runs) may share one database in different schemas, so any schema but the default
 * folds a hash of its name into the low 32 bits; the default schema keeps the fixed id.
 *
 * @example leaderLockIdFor(undefined) === LEADER_LOCK_ID; leaderLockIdFor("tenant_a") !== LEADER_LOCK_ID
 */
export function leaderLockIdFor(schema?: string): bigint {
  if (!schema || schema === "public") return LEADER_LOCK_ID;
  return LEADER_LOCK_ID ^ BigInt(fnv1a32(schema));
}

/** FNV-1a, 32 bits: a stable, dependency-free hash of a short name. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

export interface PgLeaderLockOptions {
  /** Lock id (default LEADER_LOCK_ID). Advisory locks are per database, so databases never collide. */
  lockId?: bigint;
  /** Seconds a query may take before the check counts as failed (default 5). */
  queryTimeoutSeconds?: number;
}

export class PgLeaderLock implements LeaderLock {
  private client: postgres.Sql | null = null;
  private readonly lockId: string;
  private readonly classid: number;
  private readonly objid: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly url: string,
    opts: PgLeaderLockOptions = {},
  ) {
    const id = opts.lockId ?? LEADER_LOCK_ID;
    this.lockId = id.toString();
    // pg_locks shows a bigint advisory key as its high and low 32 bits (objsubid = 1).
    this.classid = Number(id >> 32n);
    this.objid = Number(id & 0xffffffffn);
    this.timeoutMs = (opts.queryTimeoutSeconds ?? 5) * 1000;
  }

  async tryAcquire(): Promise<boolean> {
    const [row] = await this.query((sql) => sql`select pg_try_advisory_lock(${this.lockId}::bigint) as ok`);
    return row!.ok === true;
  }

  /**
   * Asks pg_locks whether THIS session (pg_backend_pid of the connection answering) holds the lock. If the
   * dedicated connection dropped and postgres.js replaced it, the new backend holds nothing: false.
   */
  async holdsLock(): Promise<boolean> {
    const [row] = await this.query((sql) => sql`
      select exists (
        select 1 from pg_locks
        where locktype = 'advisory' and granted and pid = pg_backend_pid()
          and database = (select oid from pg_database where datname = current_database())
          and classid = ${this.classid}::oid and objid = ${this.objid}::oid and objsubid = 1
      ) as held`);
    return row!.held === true;
  }

  async release(): Promise<void> {
    // unlock_all: the session holds only this lock, and re-acquiring while holding stacks the count.
    if (this.client) await this.query((sql) => sql`select pg_advisory_unlock_all()`);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end({ timeout: 2 });
  }

  /**
   * Runs one query with a deadline. Any failure discards the connection: postgres.js 3.4 can hang the next
   * query on a single-connection client whose socket was reset mid-query, and a session we are unsure of
   * must not be trusted with the lock anyway (closing it frees whatever it held).
   */
  private async query<T>(run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    const sql = (this.client ??= this.connect());
    let timer: Timer | undefined;
    try {
      return await Promise.race([
        run(sql),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`leader lock query took over ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (e) {
      if (this.client === sql) this.client = null;
      void sql.end({ timeout: 0 }).catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private connect(): postgres.Sql {
    return postgresDriver()(this.url, {
      max: 1,
      // Never recycle the session on our own: a new session would not hold the lock (postgres.js
      // otherwise retires connections after 30–60 minutes).
      max_lifetime: null,
      idle_timeout: 0,
      connect_timeout: Math.ceil(this.timeoutMs / 1000),
      onnotice: () => {},
      connection: { application_name: "leoflow-leader" },
    });
  }
}
