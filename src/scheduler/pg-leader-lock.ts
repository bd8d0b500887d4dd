/**
 * PgLeaderLock: scheduler leadership as a session-level Postgres advisory lock (the SQL and its dedicated
 * session live in store/postgres/advisory-lock.ts, the lock's id per deployment in store/postgres/lock-ids.ts).
 *
 * @example
 * const lock = new PgLeaderLock("postgres://postgres@127.0.0.1:5432/leoflow");
 * if (await lock.tryAcquire()) { … lead …; if (!(await lock.holdsLock())) stepDown(); }
 */
import { hostname } from "node:os";
import type { LeaderLock } from "./leader-campaign";
import { LEADER_LOCK_ID, PgAdvisoryLock, leaderLockIdFor, type AdvisoryLock, type LockHolderSession } from "../store";

// The lock's id per deployment lives with the store's lock code: a Lite server on Postgres takes the same lock
// before anything else starts (store/postgres/server-lock.ts).
export { LEADER_LOCK_ID, leaderLockIdFor };

export interface PgLeaderLockOptions {
  /** Lock id (default LEADER_LOCK_ID). Advisory locks are per database, so databases never collide. */
  lockId?: bigint;
  /** Seconds a query may take before the check counts as failed (default 5). */
  queryTimeoutSeconds?: number;
}

export class PgLeaderLock implements LeaderLock {
  private readonly lock: AdvisoryLock;

  constructor(url: string, opts: PgLeaderLockOptions = {}) {
    this.lock = new PgAdvisoryLock(url, {
      lockId: opts.lockId ?? LEADER_LOCK_ID,
      purpose: "leader lock",
      // Who leads, as pg_stat_activity (and a Lite server refused beside it) shows it.
      applicationName: `leoflow-leader pid ${process.pid} on ${hostname()}`,
      queryTimeoutSeconds: opts.queryTimeoutSeconds,
    });
  }

  tryAcquire(): Promise<boolean> {
    return this.lock.tryAcquire();
  }

  holdsLock(): Promise<boolean> {
    return this.lock.holdsLock();
  }

  holderSession(): Promise<LockHolderSession | null> {
    return this.lock.holderSession();
  }

  terminateHolder(pid: number): Promise<boolean> {
    return this.lock.terminateHolder(pid);
  }

  release(): Promise<void> {
    return this.lock.release();
  }

  close(): Promise<void> {
    return this.lock.close();
  }
}
