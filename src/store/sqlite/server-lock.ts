/**
 * One server per SQLite database. Two `leoflow serve` on one file (a second terminal, a stale systemd unit)
 * each ran the scheduler: every callback fired twice, and two started at once failed with "database is locked"
 * or EEXIST on the secrets key. A server holds an exclusive SQLite lock on `<db>.lock` for its life: SQLite's
 * own file locking, so it works wherever the database does, and the operating system drops the lock when the
 * process dies however it dies, so nothing is ever stale. Who holds it is written beside it (`<db>.lock.owner`)
 * for the refusal to name. Postgres servers are not locked here: Pro elects one leader among its replicas.
 */
import { Database } from "bun:sqlite";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export interface ServerLock {
  release(): void;
}

/** The lock connections held: referenced here so a collected handle never closes one (and drops its lock) early. */
const held = new Set<Database>();

/**
 * Takes the lock of the SQLite database at `dbPath` (none for `:memory:`), or throws saying which server holds
 * it. `owner` describes this server for the next one refused (pid, url, start time).
 */
export function lockSqliteForServer(dbPath: string, owner: string): ServerLock {
  if (dbPath === ":memory:") return { release() {} };
  const lockPath = `${resolve(dbPath)}.lock`;
  const ownerPath = `${lockPath}.owner`;
  const db = new Database(lockPath, { create: true });
  try {
    db.exec("PRAGMA busy_timeout = 0");
    // EXCLUSIVE locking mode keeps the write lock of the first transaction until the connection closes.
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec(
      "BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (at TEXT); DELETE FROM held; INSERT INTO held VALUES (datetime('now')); COMMIT",
    );
  } catch (e) {
    db.close();
    if (!/locked|busy/i.test(String(e))) throw e;
    let holder = "another leoflow server";
    try {
      holder = readFileSync(ownerPath, "utf8").trim() || holder;
    } catch {
      // Written a moment after the lock: the other server is still starting.
    }
    throw new Error(
      `the database ${resolve(dbPath)} is in use by ${holder}; one server per SQLite database: stop that one first, or give this one its own --db (or --data-dir)`,
    );
  }
  writeFileSync(ownerPath, `${owner}\n`);
  held.add(db);
  return {
    release() {
      if (!held.delete(db)) return;
      rmSync(ownerPath, { force: true });
      db.close();
    },
  };
}
