/** XCom: small JSON values passed between tasks, size-limited at write (same limit and message as SQLite). */
import type { Page, XComFilter, XComKey, XComRecord } from "../../domain";
import { whereSql, xcomWhere } from "../list-filters";
import { pgDialect } from "./filter-queries";
import { encodeXCom, UNMAPPED, XCOM_REPLACE, xcomKeyValues } from "../sqlite/xcom";
import { XCOM_SORTABLE } from "../sortable";
import { execute, Params, query, type Db } from "./client";
import { pgPageClause } from "./list-query";
import { toXCom, XCOM_COLUMNS } from "./rows";

export async function setXCom(db: Db, key: XComKey, value: unknown, now: Date, maxBytes: number): Promise<void> {
  const json = encodeXCom(key, value, maxBytes);
  await execute(db, `INSERT INTO xcom (${XCOM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8) ${XCOM_REPLACE}`, [
    ...xcomKeyValues(key),
    json,
    now,
  ]);
}

/**
 * Stored only when the key has none and its task instance exists, which the statement holds FOR SHARE: a run
 * delete (its task instances cascade) waits for this insert and then deletes it with the run's other XComs, or
 * committed first, and then nothing is written. Through the run's key to the task instance's (no index on a
 * task instance's own dag_id/run_id).
 */
const INSERT_XCOM = `WITH ti AS (
    SELECT 1 FROM task_instances t
    WHERE t.dag_run_id = (SELECT r.id FROM dag_runs r WHERE r.team = $1 AND r.dag_id = $2 AND r.run_id = $3)
      AND t.task_id = $4 AND t.map_index = $5 FOR SHARE)
  INSERT INTO xcom (${XCOM_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7::text::jsonb, $8 FROM ti
  ON CONFLICT (team, dag_id, run_id, task_id, map_index, key) DO NOTHING
  RETURNING ${XCOM_COLUMNS}`;

export async function insertXCom(db: Db, key: XComKey, value: unknown, now: Date, maxBytes: number): Promise<XComRecord | null> {
  const json = encodeXCom(key, value, maxBytes);
  const [row] = await query<XComRecord>(db, INSERT_XCOM, [...xcomKeyValues(key), json, now]);
  return row ? toXCom(row) : null;
}

export async function updateXCom(db: Db, key: XComKey, value: unknown, now: Date, maxBytes: number): Promise<XComRecord | null> {
  const json = encodeXCom(key, value, maxBytes);
  const [row] = await query<XComRecord>(
    db,
    `UPDATE xcom SET value = $7::text::jsonb, timestamp = $8
     WHERE team = $1 AND dag_id = $2 AND run_id = $3 AND task_id = $4 AND map_index = $5 AND key = $6
     RETURNING ${XCOM_COLUMNS}`,
    [...xcomKeyValues(key), json, now],
  );
  return row ? toXCom(row) : null;
}

export async function getXCom(db: Db, key: XComKey): Promise<XComRecord | null> {
  const [row] = await query<XComRecord>(
    db,
    `SELECT ${XCOM_COLUMNS} FROM xcom WHERE team = $1 AND dag_id = $2 AND run_id = $3 AND task_id = $4 AND map_index = $5 AND key = $6`,
    [...xcomKeyValues(key)],
  );
  return row ? toXCom(row) : null;
}

export async function listXComs(db: Db, team: string, filter: XComFilter): Promise<Page<XComRecord>> {
  const p = new Params();
  const w = whereSql([`team = ${p.add(team)}`, ...xcomWhere(pgDialect(p), filter)]);
  const filterParams = [...p.values];
  // Ties within a task_id fall back to map_index then key (the rest of the primary key), as Airflow lists them.
  const page = pgPageClause(filter, XCOM_SORTABLE, "task_id", ["dag_id", "run_id", "task_id", "map_index", "key"], p);
  const rows = await query<XComRecord>(db, `SELECT ${XCOM_COLUMNS} FROM xcom${w}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM xcom${w}`, filterParams)) as [{ n: number }];
  return { items: rows.map(toXCom), total: n };
}

/**
 * The upsert of an inline try ends' XComs as one INSERT over a JSON recordset, a CTE of their statement; `$` names
 * parameter k. Each value goes in as the JSON it already is (no second encoding as a string). `ended`: the CTE of
 * the statement's applied ends (an `id` column): a row is stored only when its task instance's end is among them.
 */
export const xcomUpsertSql = ($: (k: number) => string, ended: string) => `INSERT INTO xcom (${XCOM_COLUMNS})
       SELECT u.team, u.dag_id, u.run_id, u.task_id, u.map_index, u.key, u.value, ${$(1)}::timestamptz
       FROM json_to_recordset(${$(0)}::text::json)
         AS u(team text, dag_id text, run_id text, task_id text, map_index int, key text, value jsonb, ti_id bigint)
       WHERE u.ti_id IN (SELECT id FROM ${ended})
       ${XCOM_REPLACE}`;

/** xcomUpsertSql's two parameters: the rows as one JSON text (each `json` spliced in as it is), and the time. */
export const xcomUpsertParams = (rows: readonly { key: XComKey; json: string; ti_id: number }[], now: Date): unknown[] => [
  `[${rows
    .map((r) => {
      const { team, dag_id, run_id, task_id, key } = r.key;
      const head = JSON.stringify({ team, dag_id, run_id, task_id, map_index: r.key.map_index ?? UNMAPPED, key, ti_id: r.ti_id });
      return `${head.slice(0, -1)},"value":${r.json}}`;
    })
    .join(",")}]`,
  now,
];
