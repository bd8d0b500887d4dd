/** Variables and connections (Airflow's): one small function per SQL operation. */
import type { Database } from "bun:sqlite";
import { ConflictError } from "../../domain";
import { connectionRow } from "../connection-row";
import type { ConnectionRecord, ListOptions, Page, VariableRecord } from "../store";
import { CONN_SORTABLE, VAR_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";

const VAR_COLUMNS = "key, value, description";
const CONN_COLUMNS = "connection_id, conn_type, description, host, login, password, schema, port, extra";

export function getVariable(db: Database, key: string): VariableRecord | null {
  return (db.query(`SELECT ${VAR_COLUMNS} FROM variables WHERE key = ?`).get(key) as VariableRecord | null) ?? null;
}

export function putVariable(db: Database, v: VariableRecord, now: Date, onlyIfAbsent = false): VariableRecord {
  const conflict = onlyIfAbsent
    ? "DO NOTHING"
    : "DO UPDATE SET value = excluded.value, description = excluded.description, updated_at = excluded.updated_at";
  const res = db
    .query(`INSERT INTO variables (key, value, description, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) ${conflict}`)
    .run(v.key, v.value, v.description ?? null, now.getTime());
  if (onlyIfAbsent && res.changes === 0) throw new ConflictError(`The Variable with key: \`${v.key}\` already exists`);
  return { key: v.key, value: v.value, description: v.description ?? null };
}

export function listVariables(db: Database, opts: ListOptions & { key_pattern?: string } = {}): Page<VariableRecord> {
  const where = opts.key_pattern !== undefined ? " WHERE key LIKE ?" : "";
  const params = opts.key_pattern !== undefined ? [opts.key_pattern] : [];
  const page = pageClause(opts, VAR_SORTABLE, "key", "key");
  const items = db.query(`SELECT ${VAR_COLUMNS} FROM variables${where}${page.sql}`).all(...params, ...page.params) as VariableRecord[];
  const { n } = db.query(`SELECT count(*) AS n FROM variables${where}`).get(...params) as { n: number };
  return { items, total: n };
}

export function deleteVariable(db: Database, key: string): boolean {
  return db.query("DELETE FROM variables WHERE key = ?").run(key).changes > 0;
}

export function getConnection(db: Database, id: string): ConnectionRecord | null {
  return (db.query(`SELECT ${CONN_COLUMNS} FROM connections WHERE connection_id = ?`).get(id) as ConnectionRecord | null) ?? null;
}

export function putConnection(db: Database, c: ConnectionRecord, now: Date, onlyIfAbsent = false): ConnectionRecord {
  const row = connectionRow(c);
  const set = Object.keys(row)
    .filter((k) => k !== "connection_id")
    .map((k) => `${k} = excluded.${k}`)
    .join(", ");
  const conflict = onlyIfAbsent ? "DO NOTHING" : `DO UPDATE SET ${set}, updated_at = excluded.updated_at`;
  const res = db
    .query(`INSERT INTO connections (${CONN_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (connection_id) ${conflict}`)
    .run(...Object.values(row), now.getTime());
  if (onlyIfAbsent && res.changes === 0) throw new ConflictError(`The connection with connection_id: \`${c.connection_id}\` already exists`);
  return row;
}

export function listConnections(db: Database, opts: ListOptions & { id_pattern?: string } = {}): Page<ConnectionRecord> {
  const where = opts.id_pattern !== undefined ? " WHERE connection_id LIKE ?" : "";
  const params = opts.id_pattern !== undefined ? [opts.id_pattern] : [];
  const page = pageClause(opts, CONN_SORTABLE, "connection_id", "connection_id");
  const items = db.query(`SELECT ${CONN_COLUMNS} FROM connections${where}${page.sql}`).all(...params, ...page.params) as ConnectionRecord[];
  const { n } = db.query(`SELECT count(*) AS n FROM connections${where}`).get(...params) as { n: number };
  return { items, total: n };
}

export function deleteConnection(db: Database, id: string): boolean {
  return db.query("DELETE FROM connections WHERE connection_id = ?").run(id).changes > 0;
}
