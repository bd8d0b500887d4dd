/**
 * PgLeaderLock: scheduler leadership as a session-level Postgres advisory lock (the SQL and its dedicated
 * session live in store/postgres/advisory-lock.ts). This file decides which lock: its id per deployment.
 *
 * @example
 * const lock = new PgLeaderLock("postgres://postgres@127.0.0.1:5432/leoflow");
 * if (await lock.tryAcquire()) { … lead …; if (!(await lock.holdsLock())) stepDown(); }
 */
import type { LeaderLock } from "./leader-campaign";
import { fnv1a32 } from "../domain";
import { PgAdvisoryLock, type AdvisoryLock } from "../store";

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
      applicationName: "leoflow-leader",
      queryTimeoutSeconds: opts.queryTimeoutSeconds,
    });
  }

  tryAcquire(): Promise<boolean> {
    return this.lock.tryAcquire();
  }

  holdsLock(): Promise<boolean> {
    return this.lock.holdsLock();
  }

  release(): Promise<void> {
    return this.lock.release();
  }

  close(): Promise<void> {
    return this.lock.close();
  }
}
