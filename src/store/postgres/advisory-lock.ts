/**
 * A session-level Postgres advisory lock, held on a DEDICATED single connection (never the store's pool):
 * the lock belongs to that session, so the connection must stay the same one for as long as it is held.
 * The scheduler's leader lock is one (scheduler/pg-leader-lock.ts); this file is only its SQL and session.
 *
 * @example
 * const lock = new PgAdvisoryLock(url, { lockId: 0x4c656f466c6f77n, purpose: "leader lock", applicationName: "leoflow-leader" });
 * if (await lock.tryAcquire()) { … ; if (!(await lock.holdsLock())) stepDown(); }
 */
import type postgres from "postgres";
import { postgresDriver } from "./driver";

/** A lock only one session can hold at a time. */
export interface AdvisoryLock {
  /** Takes the lock without blocking; false when another session holds it. */
  tryAcquire(): Promise<boolean>;
  /** Whether this session still holds the lock (false after its connection was replaced). */
  holdsLock(): Promise<boolean>;
  /** Frees the lock (best effort; a lost session has freed it already). */
  release(): Promise<void>;
  /** Closes the lock's connection, which frees the lock too. */
  close(): Promise<void>;
  /** Who holds the lock now, as Postgres sees that session (its application name, address, start), or null. */
  holder(): Promise<string | null>;
  /**
   * The session holding the lock, or null while it is free: its backend pid, application name, and when it last
   * ran a statement (pg_stat_activity.state_change, epoch ms; null when this role may not see it).
   */
  holderSession(): Promise<LockHolderSession | null>;
  /**
   * Ends the session `pid` if it still holds the lock (pg_terminate_backend), which frees it, and waits (up to 5 s) for
   * its backend to exit; true when it was ended.
   * Needs the same database role as that session, or pg_signal_backend.
   */
  terminateHolder(pid: number): Promise<boolean>;
}

export interface LockHolderSession {
  pid: number;
  name: string;
  activeAt: number | null;
}

export interface AdvisoryLockOptions {
  /** The bigint key. Advisory locks are per database, so databases never collide. */
  lockId: bigint;
  /** What the lock is for, named in a timeout's message (e.g. "leader lock"). */
  purpose: string;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  /** Seconds a query may take before it counts as failed (default 5). */
  queryTimeoutSeconds?: number;
}

export class PgAdvisoryLock implements AdvisoryLock {
  private client: postgres.Sql | null = null;
  private readonly lockId: string;
  private readonly classid: number;
  private readonly objid: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly url: string,
    private readonly opts: AdvisoryLockOptions,
  ) {
    this.lockId = opts.lockId.toString();
    // pg_locks shows a bigint advisory key as its high and low 32 bits (objsubid = 1).
    this.classid = Number(opts.lockId >> 32n);
    this.objid = Number(opts.lockId & 0xffffffffn);
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
    const [row] = await this.query(
      (sql) => sql`
      select exists (
        select 1 from pg_locks
        where locktype = 'advisory' and granted and pid = pg_backend_pid()
          and database = (select oid from pg_database where datname = current_database())
          and classid = ${this.classid}::oid and objid = ${this.objid}::oid and objsubid = 1
      ) as held`,
    );
    return row!.held === true;
  }

  async holder(): Promise<string | null> {
    const [row] = await this.query(
      (sql) => sql`
      select a.application_name, host(a.client_addr) as addr, a.backend_start from pg_locks l
      join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted
        and l.database = (select oid from pg_database where datname = current_database())
        and l.classid = ${this.classid}::oid and l.objid = ${this.objid}::oid and l.objsubid = 1`,
    );
    if (!row) return null;
    const from = row.addr ? ` from ${row.addr}` : " over a local socket";
    const since = row.backend_start instanceof Date ? `, connected since ${row.backend_start.toISOString()}` : "";
    return `${row.application_name || "a session"} (${from.trim()}${since})`;
  }

  async holderSession(): Promise<LockHolderSession | null> {
    const [row] = await this.query(
      (sql) => sql`
      select l.pid, coalesce(a.application_name, '') as name,
        (extract(epoch from a.state_change) * 1000)::float8 as active_at from pg_locks l
      left join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted
        and l.database = (select oid from pg_database where datname = current_database())
        and l.classid = ${this.classid}::oid and l.objid = ${this.objid}::oid and l.objsubid = 1`,
    );
    if (!row) return null;
    return { pid: Number(row.pid), name: String(row.name), activeAt: row.active_at === null ? null : Number(row.active_at) };
  }

  async terminateHolder(pid: number): Promise<boolean> {
    // The pid is matched against the lock again in the same statement: a holder that changed since it was seen
    // (the lock freed and taken by another session) is left alone.
    const [row] = await this.query(
      (sql) => sql`
      select coalesce(bool_or(pg_terminate_backend(l.pid)), false) as ended from pg_locks l
      where l.locktype = 'advisory' and l.granted and l.pid = ${pid}::int and l.pid <> pg_backend_pid()
        and l.database = (select oid from pg_database where datname = current_database())
        and l.classid = ${this.classid}::oid and l.objid = ${this.objid}::oid and l.objsubid = 1`,
    );
    if (row!.ended !== true) return false;
    // pg_terminate_backend only signals the backend: the lock is free once it has exited, a moment later (longer on a
    // loaded host). Wait for that (up to 5 s) so the caller's next try for the lock finds it free.
    for (let waited = 0; waited < 5000; waited += 10) {
      const [alive] = await this.query((sql) => sql`select 1 from pg_stat_activity where pid = ${pid}::int`);
      if (!alive) break;
      await Bun.sleep(10);
    }
    return true;
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
          timer = setTimeout(() => reject(new Error(`${this.opts.purpose} query took over ${this.timeoutMs} ms`)), this.timeoutMs);
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
      // Its statements take and check one lock, no arrays: the driver's read of the catalogue's array types
      // (~20 ms of Postgres time) would only delay the first campaign.
      fetch_types: false,
      onnotice: () => {},
      // The server's own keepalive on this session: should this host die (no FIN, no RST), Postgres drops the
      // session, and so frees the lock, within ~1 minute rather than the kernel's default ~2 hours.
      connection: {
        application_name: this.opts.applicationName,
        tcp_keepalives_idle: 30,
        tcp_keepalives_interval: 10,
        tcp_keepalives_count: 3,
      },
    });
  }
}
