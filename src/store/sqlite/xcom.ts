/** XCom: small JSON values passed between tasks, size-limited at write. */
import { atomically } from "./atomic";
import type { Database } from "bun:sqlite";
import { TooLargeError, ValidationError, findJsonProblem, type Page, type XComFilter, type XComKey, type XComRecord } from "../../domain";
import { whereSql, xcomWhere } from "../list-filters";
import { sqliteDialect } from "./filter-queries";
import { XCOM_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";
import { toXCom, type XComRow } from "./rows";
import { getTaskInstance } from "./task-instances";

/** Airflow's map_index for a task that is not mapped. */
export const UNMAPPED = -1;

const COLUMNS = "team, dag_id, run_id, task_id, map_index, key, value, timestamp";

/**
 * The JSON text to store, or TooLargeError naming the key, the task, the size and the limit; or
 * ValidationError when the value holds NUL, a lone surrogate or nests past 64 levels (json-safety.ts),
 * which Postgres jsonb refuses: refused on both stores alike, so a task's outcome never depends on the store.
 */
export function encodeXCom(key: XComKey, value: unknown, maxBytes: number): string {
  const problem = findJsonProblem(value, { root: [key.key] });
  if (problem) throw new ValidationError(`XCom ${key.key} of task ${key.task_id} cannot be stored: ${problem.message}`);
  const json = JSON.stringify(value) ?? "null";
  const size = Buffer.byteLength(json, "utf8");
  if (size > maxBytes)
    throw new TooLargeError(`XCom ${key.key} of task ${key.task_id} is ${size} bytes; the limit is ${maxBytes} bytes (--xcom-max-bytes)`);
  return json;
}

/** An XCom key's columns in table order (team, DAG, run, task, map index, key): the parameters of both stores' statements. */
export const xcomKeyValues = (key: XComKey) => [key.team, key.dag_id, key.run_id, key.task_id, key.map_index ?? UNMAPPED, key.key] as const;

/** An upsert's conflict clause on both stores: a key written again replaces its value and time. */
export const XCOM_REPLACE =
  "ON CONFLICT (team, dag_id, run_id, task_id, map_index, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp";

export function setXCom(db: Database, key: XComKey, value: unknown, now: Date, maxBytes: number): void {
  const json = encodeXCom(key, value, maxBytes);
  db.query(`INSERT INTO xcom (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${XCOM_REPLACE}`).run(...xcomKeyValues(key), json, now.getTime());
}

/** Upserts values encodeXComs accepted, in one transaction (a savepoint inside the caller's). */
export function upsertEncodedXComs(db: Database, rows: readonly { key: XComKey; json: string }[], now: Date): void {
  if (!rows.length) return;
  const upsert = db.query(`INSERT INTO xcom (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${XCOM_REPLACE}`);
  atomically(db, () => {
    for (const { key, json } of rows) upsert.run(...xcomKeyValues(key), json, now.getTime());
  });
}

/** One XCom key as a string (team, DAG, run, task, map index and key): equal keys, equal strings. */
export const xcomKeyId = (key: XComKey): string => JSON.stringify(xcomKeyValues(key));

/** Each item's encoding error (or null), and the encodable ones, one per key (the last wins). Shared with Postgres. */
export function encodeXComs(
  items: readonly { key: XComKey; value: unknown }[],
  maxBytes: number,
): { errors: (Error | null)[]; rows: { key: XComKey; json: string }[] } {
  const byKey = new Map<string, { key: XComKey; json: string }>();
  const errors = items.map(({ key, value }) => {
    try {
      const json = encodeXCom(key, value, maxBytes);
      const id = xcomKeyId(key);
      byKey.delete(id); // re-inserted: Map order follows the last write
      byKey.set(id, { key, json });
      return null;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  });
  return { errors, rows: [...byKey.values()] };
}

/** Stored only when the key has none and its task instance exists, in one immediate transaction with the check. */
export function insertXCom(db: Database, key: XComKey, value: unknown, now: Date, maxBytes: number): XComRecord | null {
  const json = encodeXCom(key, value, maxBytes);
  return db
    .transaction((): XComRecord | null => {
      if (!getTaskInstance(db, key.team, key.dag_id, key.run_id, key.task_id, key.map_index ?? UNMAPPED)) return null;
      const row = db
        .query(
          `INSERT INTO xcom (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (team, dag_id, run_id, task_id, map_index, key) DO NOTHING RETURNING ${COLUMNS}`,
        )
        .get(...xcomKeyValues(key), json, now.getTime()) as XComRow | null;
      return row ? toXCom(row) : null;
    })
    .immediate();
}

export function updateXCom(db: Database, key: XComKey, value: unknown, now: Date, maxBytes: number): XComRecord | null {
  const json = encodeXCom(key, value, maxBytes);
  const row = db
    .query(
      `UPDATE xcom SET value = ?, timestamp = ?
       WHERE team = ? AND dag_id = ? AND run_id = ? AND task_id = ? AND map_index = ? AND key = ? RETURNING ${COLUMNS}`,
    )
    .get(json, now.getTime(), ...xcomKeyValues(key)) as XComRow | null;
  return row ? toXCom(row) : null;
}

export function getXCom(db: Database, key: XComKey): XComRecord | null {
  const row = db
    .query(`SELECT ${COLUMNS} FROM xcom WHERE team = ? AND dag_id = ? AND run_id = ? AND task_id = ? AND map_index = ? AND key = ?`)
    .get(...xcomKeyValues(key)) as XComRow | null;
  return row ? toXCom(row) : null;
}

export function listXComs(db: Database, team: string, filter: XComFilter): Page<XComRecord> {
  const params: (string | number | null)[] = [];
  const d = sqliteDialect(params);
  const w = whereSql([`team = ${d.param(team)}`, ...xcomWhere(d, filter)]);
  // Ties within a task_id fall back to map_index then key (the rest of the primary key), as Airflow lists them.
  const page = pageClause(filter, XCOM_SORTABLE, "task_id", ["dag_id", "run_id", "task_id", "map_index", "key"]);
  const rows = db.query(`SELECT ${COLUMNS} FROM xcom${w}${page.sql}`).all(...params, ...page.params) as XComRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM xcom${w}`).get(...params) as { n: number };
  return { items: rows.map(toXCom), total: n };
}
