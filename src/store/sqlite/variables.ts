/** Variables and connections (Airflow's): one small function per SQL operation. */
import type { Database } from "bun:sqlite";
import { ConflictError, type ConnectionRecord, type ListOptions, type Page, type SecretRewrite, type VariableRecord } from "../../domain";
import { connectionRow } from "../connection-row";
import { CONN_SORTABLE, VAR_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";

const VAR_COLUMNS = "key, value, description, is_encrypted";
const CONN_COLUMNS = "connection_id, conn_type, description, host, login, password, schema, port, extra, is_encrypted, is_extra_encrypted";

// SQLite has no boolean: the flags are stored as 0/1.
type Stored<T> = { [K in keyof T]: T[K] extends boolean | undefined ? number : T[K] };
const variableOf = (r: Stored<VariableRecord>): VariableRecord => ({ ...r, is_encrypted: r.is_encrypted === 1 });
const connectionOf = (r: Stored<ConnectionRecord>): ConnectionRecord => ({
  ...r,
  is_encrypted: r.is_encrypted === 1,
  is_extra_encrypted: r.is_extra_encrypted === 1,
});
const bindable = (v: unknown) => (typeof v === "boolean" ? Number(v) : v) as string | number | null;

export function getVariable(db: Database, key: string): VariableRecord | null {
  const row = db.query(`SELECT ${VAR_COLUMNS} FROM variables WHERE key = ?`).get(key) as Stored<VariableRecord> | null;
  return row ? variableOf(row) : null;
}

export function putVariable(db: Database, v: VariableRecord, now: Date, onlyIfAbsent = false): VariableRecord {
  const conflict = onlyIfAbsent
    ? "DO NOTHING"
    : "DO UPDATE SET value = excluded.value, description = excluded.description, is_encrypted = excluded.is_encrypted, updated_at = excluded.updated_at";
  const stored: VariableRecord = { key: v.key, value: v.value, description: v.description ?? null, is_encrypted: v.is_encrypted ?? false };
  const res = db
    .query(`INSERT INTO variables (${VAR_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) ${conflict}`)
    .run(stored.key, stored.value, stored.description, Number(stored.is_encrypted), now.getTime());
  if (onlyIfAbsent && res.changes === 0) throw new ConflictError(`The Variable with key: \`${v.key}\` already exists`);
  return stored;
}

export function listVariables(db: Database, opts: ListOptions & { key_pattern?: string } = {}): Page<VariableRecord> {
  const where = opts.key_pattern !== undefined ? " WHERE key LIKE ?" : "";
  const params = opts.key_pattern !== undefined ? [opts.key_pattern] : [];
  const page = pageClause(opts, VAR_SORTABLE, "key", "key");
  const rows = db
    .query(`SELECT ${VAR_COLUMNS} FROM variables${where}${page.sql}`)
    .all(...params, ...page.params) as Stored<VariableRecord>[];
  const { n } = db.query(`SELECT count(*) AS n FROM variables${where}`).get(...params) as { n: number };
  return { items: rows.map(variableOf), total: n };
}

export function deleteVariable(db: Database, key: string): boolean {
  return db.query("DELETE FROM variables WHERE key = ?").run(key).changes > 0;
}

export function getConnection(db: Database, id: string): ConnectionRecord | null {
  const row = db.query(`SELECT ${CONN_COLUMNS} FROM connections WHERE connection_id = ?`).get(id) as Stored<ConnectionRecord> | null;
  return row ? connectionOf(row) : null;
}

export function putConnection(db: Database, c: ConnectionRecord, now: Date, onlyIfAbsent = false): ConnectionRecord {
  const row = connectionRow(c);
  const set = Object.keys(row)
    .filter((k) => k !== "connection_id")
    .map((k) => `${k} = excluded.${k}`)
    .join(", ");
  const conflict = onlyIfAbsent ? "DO NOTHING" : `DO UPDATE SET ${set}, updated_at = excluded.updated_at`;
  const values = Object.values(row).map(bindable);
  const res = db
    .query(
      `INSERT INTO connections (${CONN_COLUMNS}, updated_at) VALUES (${values.map(() => "?").join(", ")}, ?) ON CONFLICT (connection_id) ${conflict}`,
    )
    .run(...values, now.getTime());
  if (onlyIfAbsent && res.changes === 0)
    throw new ConflictError(`The connection with connection_id: \`${c.connection_id}\` already exists`);
  return row;
}

export function listConnections(db: Database, opts: ListOptions & { id_pattern?: string } = {}): Page<ConnectionRecord> {
  const where = opts.id_pattern !== undefined ? " WHERE connection_id LIKE ?" : "";
  const params = opts.id_pattern !== undefined ? [opts.id_pattern] : [];
  const page = pageClause(opts, CONN_SORTABLE, "connection_id", "connection_id");
  const rows = db
    .query(`SELECT ${CONN_COLUMNS} FROM connections${where}${page.sql}`)
    .all(...params, ...page.params) as Stored<ConnectionRecord>[];
  const { n } = db.query(`SELECT count(*) AS n FROM connections${where}`).get(...params) as { n: number };
  return { items: rows.map(connectionOf), total: n };
}

export function deleteConnection(db: Database, id: string): boolean {
  return db.query("DELETE FROM connections WHERE connection_id = ?").run(id).changes > 0;
}

/** Secrets rotation: compare-and-set of every rewrite in one transaction; a stale `from` rolls all back. */
export function rewriteSecrets(db: Database, rewrites: SecretRewrite[]): number {
  const setValue = db.query("UPDATE variables SET value = ?, is_encrypted = 1 WHERE key = ? AND value = ?");
  const setConn = db.query(
    `UPDATE connections SET password = ?, extra = ?, is_encrypted = ?, is_extra_encrypted = ?
      WHERE connection_id = ? AND password IS ? AND extra IS ?`,
  );
  return db.transaction(() => {
    for (const r of rewrites) {
      const changed =
        "variable" in r
          ? setValue.run(r.to, r.variable, r.from).changes
          : setConn.run(
              r.to.password,
              r.to.extra,
              Number(r.to.password !== null),
              Number(r.to.extra !== null),
              r.connection_id,
              r.from.password,
              r.from.extra,
            ).changes;
      if (changed !== 1) throw staleRewrite(r);
    }
    return rewrites.length;
  })();
}

function staleRewrite(r: SecretRewrite): ConflictError {
  const what = "variable" in r ? `variable ${r.variable}` : `connection ${r.connection_id}`;
  return new ConflictError(`${what} changed or was deleted while secrets were being re-encrypted; nothing was changed, run it again`);
}
