/**
 * `leoflow db backup PATH`: a consistent copy of a SQLite store, safe while the server writes to it.
 *
 * It runs `VACUUM INTO`, SQLite's online copy: one read transaction over the source, so in WAL mode (the
 * store's) the server's writers go on and the copy is the database as of that transaction's start, WAL
 * included; no page of a half-done write lands in it. bun:sqlite has no sqlite3_backup_* binding, and
 * `serialize()` would hold the whole database in memory. Copying the file (`cp`) is not safe: it misses the
 * WAL and can tear pages mid-write. The copy is written beside PATH and renamed once SQLite has checked it,
 * so PATH is never a partial backup.
 *
 * Restore: stop the server, put the copy where --db points (removing any old -wal/-shm beside it), start.
 * Postgres stores are backed up with pg_dump.
 *
 * @example leoflow db backup /var/backups/leoflow-$(date +%F).db
 */
import { Database } from "bun:sqlite";
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { LeoflowError, errorMessage, redactUrl } from "../domain";
import { sqlitePathOf } from "../store";
import { serveStore } from "./open-store";
import type { CliIo } from "./secrets";
import { UsageError } from "./secrets";

export const DB_BACKUP_USAGE = "db backup PATH [--db URL | --config PATH] (the store of --db, LEOFLOW_DB, or the config file)";

export async function dbBackupCommand(args: string[], io: CliIo): Promise<number> {
  let parsed: { values: { db?: string; config?: string }; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: { db: { type: "string" }, config: { type: "string" } }, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(`${errorMessage(e)}; ${DB_BACKUP_USAGE}`);
  }
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length) throw new UsageError(DB_BACKUP_USAGE);
  const { url } = await serveStore(parsed.values, io.env);
  const source = sqlitePathOf(url);
  if (source === null)
    throw new LeoflowError(
      `${redactUrl(url)} is not a SQLite store; back up a Postgres store with pg_dump (pg_dump -Fc -f leoflow.dump URL)`,
    );
  if (source === ":memory:" || !existsSync(source))
    throw new LeoflowError(`there is no SQLite store at ${source}; pass --db sqlite:PATH as the server has it`);
  const dest = resolve(target);
  if (existsSync(dest)) throw new LeoflowError(`${dest} already exists; name a new file (a backup never overwrites one)`);

  const started = performance.now();
  const partial = `${dest}.partial-${process.pid}`;
  // Read-write open (never created): a reader of a WAL database needs its -shm, which only a writer may create.
  const db = new Database(source, { create: false });
  try {
    db.run("PRAGMA busy_timeout = 10000"); // the server may hold the write lock for a moment; VACUUM INTO only reads
    db.run("VACUUM INTO ?", [partial]);
  } catch (e) {
    rmSync(partial, { force: true });
    throw new LeoflowError(`backing up ${source} failed: ${errorMessage(e)}`);
  } finally {
    db.close();
  }
  const check = checkCopy(partial);
  if (check.problem) {
    rmSync(partial, { force: true });
    throw new LeoflowError(`the copy of ${source} failed SQLite's integrity check (${check.problem}); the source is unchanged, try again`);
  }
  renameSync(partial, dest);
  const seconds = (performance.now() - started) / 1000;
  io.out(
    `backed up ${source} to ${dest} (${(statSync(dest).size / 1024).toFixed(0)} KiB, schema version ${check.schemaVersion}, ${seconds.toFixed(2)} s)\n`,
  );
  return 0;
}

/** quick_check of the copy, and the newest migration it holds (a restore needs a binary at least that new). */
function checkCopy(path: string): { problem?: string; schemaVersion: number } {
  const copy = new Database(path, { readonly: true });
  try {
    const rows = copy.query("PRAGMA quick_check").all() as { quick_check: string }[];
    const problem = rows.map((r) => r.quick_check).find((r) => r !== "ok");
    const row = copy.query("SELECT max(version) AS v FROM schema_migrations").get() as { v: number | null } | null;
    return { problem, schemaVersion: row?.v ?? 0 };
  } finally {
    copy.close();
  }
}
