/**
 * The Postgres connection pool and the small query helpers every SQL file here uses. Queries are written as
 * text with `$n` placeholders (built by `Params`) and run through `postgres`'s `unsafe` with `prepare: true`,
 * so each distinct SQL text becomes one prepared statement per connection.
 *
 * @example
 * const sql = connect({ url: "postgres://leo@db/leoflow", schema: "public" });
 * const p = new Params();
 * const rows = await query<{ id: number }>(sql, `SELECT id FROM dag_runs WHERE state = ${p.add("running")}`, p.values);
 */
import type postgres from "postgres";
import { ValidationError, redactUrl } from "../../domain";
import { postgresDriver } from "./driver";

/** A pool or a transaction: anything queries can run on. */
export type Db = postgres.Sql<Record<string, unknown>> | postgres.TransactionSql<Record<string, unknown>>;
export type Pool = postgres.Sql<Record<string, unknown>>;

export interface ConnectOptions {
  url: string;
  /** Schema holding Leoflow's tables; set as the search_path of every connection. */
  schema: string;
  /** Pool size (default 10). */
  max?: number;
  /**
   * Plan every prepared statement generically from its first execution (plan_cache_mode
   * force_generic_plan). Only for a pool whose statements' plans do not depend on their parameter values:
   * Postgres would switch them to the generic plan after five custom plans anyway, and those five cost more
   * than running them (0.5 ms per write, 1.4–5 ms for a tick's read, per connection and statement, traced).
   */
  genericPlans?: boolean;
}

/**
 * Gives `others` the array types `from` has read and stops every one of them reading them again. The driver
 * runs a catalogue query on each new connection before its first statement (a self-join of pg_type: ~20 ms of
 * Postgres time here) to learn how to send and read arrays, the same answer every time: a server opens up to ~17
 * connections, and a restart or a new leader paid them inside its first sweep. Call it once `from` has run a
 * statement (its first connection has read them); before that it changes nothing.
 */
export function shareArrayTypes(from: Pool, others: readonly Pool[]): void {
  const { serializers, parsers } = from.options;
  if (!Object.values(parsers).some((p) => (p as { array?: boolean }).array)) return;
  for (const pool of others) {
    Object.assign(pool.options.serializers, serializers);
    Object.assign(pool.options.parsers, parsers);
  }
  for (const pool of [from, ...others]) pool.options.fetch_types = false;
}

/**
 * `condition` written so no index can serve it, beside the `id = $n` by which a statement reaches its one row. On
 * a table Postgres has no statistics for yet (a new install, a burst of writes before autovacuum) the planner
 * ties the primary key with an index on state (or on a DAG's live task instances) and may take the latter, and a
 * connection keeps that plan: each heartbeat then walked every running task instance. Planned on a fresh table,
 * then with 20,000 task instances running: a heartbeat 2.5–3.7 ms against 0.24–0.42, an agent's end 6.9 ms.
 */
export const notIndexed = (condition: string): string => `(${condition}) IS TRUE`;

/**
 * Plans the rest of transaction `tx` without sequential scans, for a batch that reaches its rows by id. With a
 * large id array, or a table it has no statistics for yet (a burst's new rows), the planner otherwise picks a scan
 * that tests every row against the array or hashes every row of the table: linear in the install, not the batch.
 * Sent at once, ahead of the statements the caller queues after it on the transaction's connection (a query is
 * otherwise sent when first awaited), so it costs no round trip of its own; await it together with them.
 */
export const planWithoutSeqScans = (tx: Db): Promise<unknown> => tx.unsafe("SET LOCAL enable_seqscan = off").execute();

/**
 * Batches of more rows than this, reached by their ids, are planned without sequential scans. Postgres reads the
 * size of an id array when it plans: a few ids plan as primary-key probes by themselves, but from a few hundred on,
 * on a table it has no statistics for yet, it scanned every row (1,000 of 100,000 task instances: 21 ms, linear in
 * the install's history).
 */
const PROBE_PLAN_MIN = 64;

/** planWithoutSeqScans on `tx` when a batch of `rows` by id is larger than PROBE_PLAN_MIN, else nothing to send. */
export const planForRows = (tx: Db, rows: number): Promise<unknown> | null => (rows > PROBE_PLAN_MIN ? planWithoutSeqScans(tx) : null);

/**
 * `write` for a batch of `rows` rows reached by id, in `statements` statements: one statement of a few rows as it
 * is (no transaction around it); several statements in a transaction; more than PROBE_PLAN_MIN rows in a
 * transaction planned without sequential scans (planWithoutSeqScans), the setting sent ahead of the writes. On a
 * pool joining the caller's transaction (webhooks.joiningTransaction) the setting holds for the rest of it.
 */
export async function writeByIds<T>(sql: Pool, batch: { rows: number; statements: number }, write: (db: Db) => Promise<T>): Promise<T> {
  if (batch.rows <= PROBE_PLAN_MIN && batch.statements <= 1) return write(sql);
  return (await sql.begin(async (tx) => (await Promise.all([planForRows(tx, batch.rows), write(tx)]))[1])) as T;
}

/** Lower-case identifiers only, so the schema never needs quoting in search_path or DDL. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function connect(opts: ConnectOptions): Pool {
  if (!SCHEMA_NAME.test(opts.schema))
    throw new Error(`Postgres schema "${opts.schema}" is not a plain lower-case identifier; use letters, digits and _ (e.g. leoflow)`);
  try {
    return postgresDriver()(opts.url, {
      max: opts.max ?? 10,
      // Our own DDL's notices ("schema already exists, skipping") are expected; don't print them.
      onnotice: () => {},
      // int8 (ids, count(*)) as JS numbers: ids stay far below 2^53.
      types: { bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) } },
      connection: {
        search_path: opts.schema,
        application_name: "leoflow",
        ...(opts.genericPlans ? { plan_cache_mode: "force_generic_plan" } : {}),
      },
      // fetch_types stays on (the default): the driver serializes array parameters (unnest, ANY) only
      // once it has read the array type oids from the catalogue.
    }) as unknown as Pool;
  } catch (err) {
    // The driver parses the URL with `new URL`, whose error echoes the whole URL, password included.
    const reason = err instanceof Error ? err.message.split(opts.url).join(redactUrl(opts.url)) : String(err);
    throw new Error(
      `--db=${redactUrl(opts.url)} is not a Postgres URL Leoflow can use (${reason}); use postgres://USER:PASSWORD@HOST:PORT/DB`,
    );
  }
}

/** Collects positional parameters: `add(v)` returns its `$n`. */
export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** Runs one statement as a prepared statement and returns its rows. */
export async function query<T>(db: Db, text: string, params: unknown[] = []): Promise<T[]> {
  try {
    const rows = await db.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
    return rows as unknown as T[];
  } catch (err) {
    throw unstorableInput(err) ?? err;
  }
}

/** Like query, each row an array in column order: a read of 100,000 rows builds no object per row. */
export async function queryValues<T extends unknown[]>(db: Db, text: string, params: unknown[] = []): Promise<T[]> {
  try {
    const rows = await db.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }).values();
    return rows as unknown as T[];
  } catch (err) {
    throw unstorableInput(err) ?? err;
  }
}

/**
 * The fields of a composite value's text, as Postgres's record output writes it (`row(a, b)::text`: `(1,"x, y",)`):
 * a NULL is an empty field; a value that is empty or holds a quote, backslash, parenthesis, comma or white space is
 * quoted, with quotes and backslashes inside doubled. Fields come as text, to be parsed by the caller.
 */
export function recordFields(text: string): (string | null)[] {
  const body = text.slice(1, -1);
  const fields: (string | null)[] = [];
  let i = 0;
  for (;;) {
    if (body[i] === '"') {
      let value = "";
      for (i++; i < body.length; i++) {
        const c = body[i]!;
        if (c === '"' && body[i + 1] !== '"') break;
        if (c === '"' || c === "\\") i++; // a doubled quote, or a backslash escaping what follows
        value += body[i];
      }
      fields.push(value);
      i++; // past the closing quote
    } else {
      const comma = body.indexOf(",", i);
      const end = comma < 0 ? body.length : comma;
      fields.push(end === i ? null : body.slice(i, end));
      i = end;
    }
    if (i >= body.length) return fields;
    i++; // past the comma
  }
}

/** Rows changed by an UPDATE/DELETE/INSERT. */
export async function execute(db: Db, text: string, params: unknown[] = []): Promise<number> {
  try {
    const res = await db.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
    return res.count;
  } catch (err) {
    throw unstorableInput(err) ?? err;
  }
}

/**
 * The last line of defence of src/domain/json-safety.ts: text Postgres refuses (NUL in text, `\u0000` or a
 * lone surrogate in jsonb, JSON nested past its stack) is the caller's input, so a 400 / InvalidArgument
 * saying so, never a 500. Writes are checked before they get here; this catches what slipped through
 * (a lookup by a key holding NUL, say), where SQLite would simply find nothing.
 */
function unstorableInput(err: unknown): ValidationError | null {
  const code = pgErrorCode(err);
  const e = err as { message?: string; detail?: string };
  const why = `${e.message ?? ""}${e.detail ? `: ${e.detail}` : ""}`;
  const jsonSyntax = code === "22P02" && /json/i.test(e.message ?? "") && /surrogate|unicode/i.test(e.detail ?? "");
  if (code === "22P05" || code === "22021" || jsonSyntax)
    return new ValidationError(`a value holds text Postgres cannot store (${why}); remove U+0000 (NUL) and lone UTF-16 surrogates`);
  if (code === "54001") return new ValidationError(`a JSON value is nested too deeply for Postgres (${why}); flatten it`);
  return null;
}

/**
 * An array parameter for `unnest($n::T[])` / `= ANY($n::T[])`. The driver types an array by its first
 * element, so an array of Dates would be sent as a scalar timestamptz; as ISO text it stays untyped and the
 * `::timestamptz[]` cast in the SQL gives the server the real type. (Boolean arrays have the same problem
 * and worse: use integer flags instead.)
 */
export function arrayParam(values: readonly unknown[]): unknown[] {
  return values.map((v) => (v instanceof Date ? v.toISOString() : v));
}

/**
 * The numbers of an integer array read back as one text (`array_agg(…)::text`, e.g. "{1,2,3}"): the driver's
 * per-field cost dominates when thousands of ids come back one row each. NULL (no rows aggregated) is none.
 */
export const numbersOfArrayText = (text: string | null | undefined): number[] => (text ? text.slice(1, -1).split(",").map(Number) : []);

/** JSON for a `$n::text::jsonb` parameter (sent as text, so the driver does not encode it a second time). */
export const jsonText = (value: unknown): string => JSON.stringify(value) ?? "null";

/** Postgres error codes we turn into domain errors. */
export const PG_UNIQUE_VIOLATION = "23505";
export const PG_FOREIGN_KEY_VIOLATION = "23503";

export function pgErrorCode(err: unknown): string | undefined {
  return err instanceof postgresDriver().PostgresError ? err.code : undefined;
}

export function pgConstraint(err: unknown): string | undefined {
  return err instanceof postgresDriver().PostgresError ? (err as { constraint_name?: string }).constraint_name : undefined;
}
