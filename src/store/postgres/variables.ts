/** Variables and connections (Airflow's): one small function per SQL operation. */
import { ConflictError } from "../../domain";
import { connectionRow } from "../connection-row";
import type { ConnectionRecord, ListOptions, Page, VariableRecord } from "../store";
import { CONN_SORTABLE, VAR_SORTABLE } from "../sortable";
import { execute, Params, query, type Db } from "./client";
import { pgPageClause } from "./list-query";

const VAR_COLUMNS = "key, value, description";
const CONN_FIELDS = ["connection_id", "conn_type", "description", "host", "login", "password", "schema", "port", "extra"] as const;
const CONN_COLUMNS = CONN_FIELDS.join(", ");

export async function getVariable(db: Db, key: string): Promise<VariableRecord | null> {
  const [row] = await query<VariableRecord>(db, `SELECT ${VAR_COLUMNS} FROM variables WHERE key = $1`, [key]);
  return row ?? null;
}

export async function putVariable(db: Db, v: VariableRecord, now: Date, onlyIfAbsent = false): Promise<VariableRecord> {
  const conflict = onlyIfAbsent
    ? "DO NOTHING"
    : "DO UPDATE SET value = excluded.value, description = excluded.description, updated_at = excluded.updated_at";
  const changed = await execute(db, `INSERT INTO variables (key, value, description, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) ${conflict}`, [
    v.key,
    v.value,
    v.description ?? null,
    now,
  ]);
  if (onlyIfAbsent && changed === 0) throw new ConflictError(`The Variable with key: \`${v.key}\` already exists`);
  return { key: v.key, value: v.value, description: v.description ?? null };
}

export async function listVariables(db: Db, opts: ListOptions & { key_pattern?: string } = {}): Promise<Page<VariableRecord>> {
  const p = new Params();
  const where = opts.key_pattern !== undefined ? ` WHERE key ILIKE ${p.add(opts.key_pattern)}` : "";
  const filterParams = [...p.values];
  const page = pgPageClause(opts, VAR_SORTABLE, "key", "key", p);
  const items = await query<VariableRecord>(db, `SELECT ${VAR_COLUMNS} FROM variables${where}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM variables${where}`, filterParams)) as [{ n: number }];
  return { items, total: n };
}

export async function deleteVariable(db: Db, key: string): Promise<boolean> {
  return (await execute(db, "DELETE FROM variables WHERE key = $1", [key])) > 0;
}

export async function getConnection(db: Db, id: string): Promise<ConnectionRecord | null> {
  const [row] = await query<ConnectionRecord>(db, `SELECT ${CONN_COLUMNS} FROM connections WHERE connection_id = $1`, [id]);
  return row ?? null;
}

export async function putConnection(db: Db, c: ConnectionRecord, now: Date, onlyIfAbsent = false): Promise<ConnectionRecord> {
  const row = connectionRow(c);
  const set = CONN_FIELDS.filter((k) => k !== "connection_id").map((k) => `${k} = excluded.${k}`);
  const conflict = onlyIfAbsent ? "DO NOTHING" : `DO UPDATE SET ${set.join(", ")}, updated_at = excluded.updated_at`;
  const marks = CONN_FIELDS.map((_, i) => `$${i + 1}`).join(", ");
  const changed = await execute(
    db,
    `INSERT INTO connections (${CONN_COLUMNS}, updated_at) VALUES (${marks}, $${CONN_FIELDS.length + 1}) ON CONFLICT (connection_id) ${conflict}`,
    [...CONN_FIELDS.map((k) => row[k]), now],
  );
  if (onlyIfAbsent && changed === 0) throw new ConflictError(`The connection with connection_id: \`${c.connection_id}\` already exists`);
  return row;
}

export async function listConnections(db: Db, opts: ListOptions & { id_pattern?: string } = {}): Promise<Page<ConnectionRecord>> {
  const p = new Params();
  const where = opts.id_pattern !== undefined ? ` WHERE connection_id ILIKE ${p.add(opts.id_pattern)}` : "";
  const filterParams = [...p.values];
  const page = pgPageClause(opts, CONN_SORTABLE, "connection_id", "connection_id", p);
  const items = await query<ConnectionRecord>(db, `SELECT ${CONN_COLUMNS} FROM connections${where}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM connections${where}`, filterParams)) as [{ n: number }];
  return { items, total: n };
}

export async function deleteConnection(db: Db, id: string): Promise<boolean> {
  return (await execute(db, "DELETE FROM connections WHERE connection_id = $1", [id])) > 0;
}
