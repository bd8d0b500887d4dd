/**
 * openStore: turns a `--db` URL into a Store, behind guardedStore (the transition check both stores share) and
 * withVersionCache (DAG versions, immutable, read once).
 * Callers run `migrate()` themselves (serve does at start).
 *
 * @example
 * const store = openStore("sqlite:./data/leoflow.db");
 * await store.migrate();
 */
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import { redactUrl } from "../domain";
import { guardedStore } from "./guard";
import { withVersionCache } from "./version-cache";
import type { PostgresStore } from "./postgres/postgres-store";
import { SqliteStore } from "./sqlite";
import type { Store } from "./store";

export interface OpenStoreOptions {
  /** Largest XCom JSON accepted, in bytes (default 1 MiB). */
  xcomMaxBytes?: number;
  /** Postgres schema for Leoflow's tables when the URL does not name one (default `public`). */
  pgSchema?: string;
  /** SQLite: WAL checkpoints on a worker thread, off the commits (the server's long-lived store). */
  backgroundCheckpoints?: boolean;
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
  // Postgres: the URL goes to the driver as is (libpq-style query options such as sslmode work); the
  // schema comes from `?search_path=` or `options.schema`, else `public`.
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    const { url, schema } = splitSchema(trimmed);
    // Loaded here, not at the top: a SQLite server never evaluates the Postgres store (~220 KB of SQL and
    // row mapping) on its way to /health. require() keeps openStore synchronous for its many callers.
    const { PostgresStore: Postgres } = require("./postgres/postgres-store") as { PostgresStore: typeof PostgresStore };
    return withVersionCache(guardedStore(new Postgres({ url, schema: schema ?? opts.pgSchema, xcomMaxBytes: opts.xcomMaxBytes })));
  }
  const path = sqlitePathOf(trimmed);
  if (path === null) throw new Error(`--db=${redactUrl(trimmed)} is not a database URL Leoflow understands; ${ACCEPTED}`);
  if (path === "") throw new Error(`--db=${trimmed} names no file; ${ACCEPTED}`);
  if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
  return withVersionCache(
    guardedStore(new SqliteStore({ path, xcomMaxBytes: opts.xcomMaxBytes, backgroundCheckpoints: opts.backgroundCheckpoints })),
  );
}

/**
 * Takes a `search_path` query parameter off a Postgres URL (the driver would send it as a server setting
 * and our own search_path would be overridden).
 *
 * @example splitSchema("postgres://u@h/db?search_path=leoflow") // { url: "postgres://u@h/db", schema: "leoflow" }
 */
export function splitSchema(url: string): { url: string; schema?: string } {
  const q = url.indexOf("?");
  if (q < 0) return { url };
  const params = new URLSearchParams(url.slice(q + 1));
  const schema = params.get("search_path") ?? undefined;
  params.delete("search_path");
  const rest = params.toString();
  return { url: url.slice(0, q) + (rest ? `?${rest}` : ""), schema };
}
