/**
 * openStore: turns a `--db` URL into a Store. Callers run `migrate()` themselves (serve does at start).
 *
 * @example
 * const store = openStore("sqlite:./data/leoflow.db");
 * await store.migrate();
 */
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import { SqliteStore } from "./sqlite";
import type { Store } from "./store";

export interface OpenStoreOptions {
  /** Largest XCom JSON accepted, in bytes (default 1 MiB). */
  xcomMaxBytes?: number;
}

const ACCEPTED =
  "use sqlite:PATH (e.g. sqlite:./leoflow.db or sqlite:///var/lib/leoflow/leoflow.db), a path ending in .db, " +
  "or postgres://USER:PASSWORD@HOST:PORT/DB";

/** The SQLite file path a URL names, or null when it is not a SQLite URL. */
export function sqlitePathOf(url: string): string | null {
  let path: string;
  if (url.startsWith("sqlite://")) path = url.slice("sqlite://".length);
  else if (url.startsWith("sqlite:")) path = url.slice("sqlite:".length);
  else if (/\.(db|sqlite|sqlite3)$/i.test(url) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) path = url;
  else return null;
  if (path === ":memory:") return path;
  if (path === "~" || path.startsWith("~/")) path = homedir() + path.slice(1);
  return path;
}

export function openStore(url: string, opts: OpenStoreOptions = {}): Store {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed))
    throw new Error(
      `--db=${redact(trimmed)}: the Postgres store is not built yet (it lands with its own issue); use sqlite:PATH for now`,
    );
  const path = sqlitePathOf(trimmed);
  if (path === null) throw new Error(`--db=${redact(trimmed)} is not a database URL Leoflow understands; ${ACCEPTED}`);
  if (path === "") throw new Error(`--db=${trimmed} names no file; ${ACCEPTED}`);
  if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
  return new SqliteStore({ path, xcomMaxBytes: opts.xcomMaxBytes });
}

/** Hides a password in a URL before it reaches an error message or a log. */
function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+):[^@]*@/i, "$1:***@");
}
