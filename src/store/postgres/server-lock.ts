/**
 * One Lite server per Postgres database (schema). A Lite server assumes it is the only scheduler: two on one
 * schema ran every task's callbacks twice, as two on one SQLite file did (sqlite/server-lock.ts). A Lite server on
 * Postgres takes the scheduler's leader lock (the same advisory lock Pro's replicas elect a leader with) for its
 * life, on a session of its own; a second Lite server, or a Lite server beside a Pro deployment, is refused with
 * who holds it. Pro is how several servers share a database.
 *
 * The lock is a session's: Postgres frees it when the holder's process dies (its connection closes) and, for a
 * host that dies outright, within a minute (advisory-lock.ts sets the session's keepalive). Should the session be
 * lost while the server lives (Postgres restarted), it is taken again on the next check; if another server took it
 * meanwhile, `onLost` is told, and the server must stop scheduling.
 */
import { PgAdvisoryLock } from "./advisory-lock";
import { CHECK_DB, postgresWhere } from "./where";
import { leaderLockIdFor } from "./lock-ids";
import type { ServerLock } from "../sqlite/server-lock";

export interface PostgresServerLockOptions {
  /** The deployment's schema: its scheduler lock is taken (leaderLockIdFor), and it is named in a refusal. */
  schema?: string;
  /** Another lock than the schema's (tests). */
  lockId?: bigint;
  /** This server as the next one refused sees it (pg_stat_activity's application_name: 63 bytes at most). */
  owner: string;
  /** How often the lock is checked (default 10 s). */
  checkEveryMs?: number;
  onLost: (holder: string | null) => void;
}

export async function lockPostgresForServer(url: string, opts: PostgresServerLockOptions): Promise<ServerLock> {
  const lockId = opts.lockId ?? leaderLockIdFor(opts.schema);
  const lock = new PgAdvisoryLock(url, { lockId, purpose: "server lock", applicationName: opts.owner.slice(0, 63) });
  let acquired = false;
  try {
    acquired = await reaching(url, opts.schema, () => lock.tryAcquire());
    if (!acquired) {
      const holder = await lock.holder().catch(() => null);
      throw new Error(
        `the database ${postgresWhere(url, opts.schema)} already has a Leoflow scheduler: ${holder ?? "another leoflow server"} holds its lock; one Lite server per database: stop that one first, give this one its own schema (?search_path=…), or run every server on it with --mode=pro (they elect one scheduler)`,
      );
    }
  } finally {
    if (!acquired) await lock.close().catch(() => {});
  }
  let checking = false;
  const timer = setInterval(async () => {
    if (checking) return;
    checking = true;
    try {
      if ((await lock.holdsLock()) || (await lock.tryAcquire())) return;
      clearInterval(timer);
      opts.onLost(await lock.holder().catch(() => null));
    } catch {
      // Postgres unreachable for now: the next check tries again (a server that took the lock meanwhile is found then).
    } finally {
      checking = false;
    }
  }, opts.checkEveryMs ?? 10_000);
  timer.unref?.();
  return {
    release() {
      clearInterval(timer);
      void lock.close().catch(() => {});
    },
  };
}

/**
 * A Pro replica refuses to start on a database a Lite server runs: the Lite server schedules alone, and its
 * generated secrets key and token secret are not the replicas' (every secret the replicas wrote would fail the
 * Lite server's tasks). The Lite server's lock session names it (lockPostgresForServer's `owner`).
 */
export async function refuseBesideLiteServer(url: string, schema?: string): Promise<void> {
  const lock = new PgAdvisoryLock(url, { lockId: leaderLockIdFor(schema), purpose: "server lock", applicationName: "leoflow pro start" });
  try {
    const holder = await reaching(url, schema, () => lock.holder());
    if (holder?.startsWith(LITE_OWNER_PREFIX))
      throw new Error(
        `the database ${postgresWhere(url, schema)} is run by a Lite server: ${holder}; a Pro replica cannot share it (the Lite server schedules alone, with its own secrets key): stop that server first, then start every server on it with --mode=pro`,
      );
  } finally {
    await lock.close().catch(() => {});
  }
}

/** How a Lite server's lock session names itself (app.ts gives the rest: pid and host). */
export const LITE_OWNER_PREFIX = "leoflow lite ";

/** The server's first contact with Postgres: a failure says where it was going and what to check, as migrate's does. */
async function reaching<T>(url: string, schema: string | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new Error(`connecting to Postgres at ${postgresWhere(url, schema ?? "public")} failed: ${reason}; ${CHECK_DB}`, { cause: e });
  }
}
