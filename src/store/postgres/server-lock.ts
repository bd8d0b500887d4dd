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
import { redactUrl } from "../../domain";
import { PgAdvisoryLock } from "./advisory-lock";
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
    acquired = await lock.tryAcquire();
    if (!acquired) {
      const holder = await lock.holder().catch(() => null);
      const where = `${redactUrl(url)}${opts.schema ? ` (schema ${opts.schema})` : ""}`;
      throw new Error(
        `the database ${where} already has a Leoflow scheduler: ${holder ?? "another leoflow server"} holds its lock; one Lite server per database: stop that one first, give this one its own schema (?search_path=…), or run every server on it with --mode=pro (they elect one scheduler)`,
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
