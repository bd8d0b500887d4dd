/** Variables and connections (Airflow's), each team's its own: one small function per SQL operation. */
import type { Database } from "bun:sqlite";
import {
  ConflictError,
  type ConnectionRecord,
  type ListOptions,
  type Page,
  type SecretRewrite,
  type TeamOwned,
  type VariableRecord,
} from "../../domain";
import { connectionRow } from "../connection-row";
import type { Slice } from "../ports/secrets";
import { CONN_SORTABLE, VAR_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";
import { rewriteWebhookSecret } from "./webhooks";

const VAR_COLUMNS = "key, value, description, is_encrypted";
const CONN_COLUMNS = "connection_id, conn_type, description, host, login, password, schema, port, extra, is_encrypted, is_extra_encrypted";

// SQLite has no boolean: the flags are stored as 0/1.
type Stored<T> = { [K in keyof T]: T[K] extends boolean | undefined ? number : T[K] };
const variableOf = <V extends VariableRecord>(r: Stored<V>): V => ({ ...r, is_encrypted: r.is_encrypted === 1 }) as V;
const connectionOf = <C extends ConnectionRecord>(r: Stored<C>): C =>
  ({
    ...r,
    is_encrypted: r.is_encrypted === 1,
    is_extra_encrypted: r.is_extra_encrypted === 1,
  }) as C;
const bindable = (v: unknown) => (typeof v === "boolean" ? Number(v) : v) as string | number | null;

export function getVariable(db: Database, team: string, key: string): VariableRecord | null {
  const row = db.query(`SELECT ${VAR_COLUMNS} FROM variables WHERE team = ? AND key = ?`).get(team, key) as Stored<VariableRecord> | null;
  return row ? variableOf(row) : null;
}

export function putVariable(db: Database, team: string, v: VariableRecord, now: Date, onlyIfAbsent = false): VariableRecord {
  const conflict = onlyIfAbsent
    ? "DO NOTHING"
    : "DO UPDATE SET value = excluded.value, description = excluded.description, is_encrypted = excluded.is_encrypted, updated_at = excluded.updated_at";
  const stored: VariableRecord = { key: v.key, value: v.value, description: v.description ?? null, is_encrypted: v.is_encrypted ?? false };
  const res = db
    .query(`INSERT INTO variables (team, ${VAR_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (team, key) ${conflict}`)
    .run(team, stored.key, stored.value, stored.description, Number(stored.is_encrypted), now.getTime());
  if (onlyIfAbsent && res.changes === 0) throw new ConflictError(`The Variable with key: \`${v.key}\` already exists`);
  return stored;
}

export function listVariables(db: Database, team: string, opts: ListOptions & { key_pattern?: string } = {}): Page<VariableRecord> {
  const where = ` WHERE team = ?${opts.key_pattern !== undefined ? " AND key LIKE ?" : ""}`;
  const params = opts.key_pattern !== undefined ? [team, opts.key_pattern] : [team];
  const page = pageClause(opts, VAR_SORTABLE, "key", "key");
  const rows = db
    .query(`SELECT ${VAR_COLUMNS} FROM variables${where}${page.sql}`)
    .all(...params, ...page.params) as Stored<VariableRecord>[];
  const { n } = db.query(`SELECT count(*) AS n FROM variables${where}`).get(...params) as { n: number };
  return { items: rows.map(variableOf), total: n };
}

export function deleteVariable(db: Database, team: string, key: string): boolean {
  return db.query("DELETE FROM variables WHERE team = ? AND key = ?").run(team, key).changes > 0;
}

export function getConnection(db: Database, team: string, id: string): ConnectionRecord | null {
  const row = db
    .query(`SELECT ${CONN_COLUMNS} FROM connections WHERE team = ? AND connection_id = ?`)
    .get(team, id) as Stored<ConnectionRecord> | null;
  return row ? connectionOf(row) : null;
}

export function putConnection(db: Database, team: string, c: ConnectionRecord, now: Date, onlyIfAbsent = false): ConnectionRecord {
  const row = connectionRow(c);
  const set = Object.keys(row)
    .filter((k) => k !== "connection_id")
    .map((k) => `${k} = excluded.${k}`)
    .join(", ");
  const conflict = onlyIfAbsent ? "DO NOTHING" : `DO UPDATE SET ${set}, updated_at = excluded.updated_at`;
  const values = Object.values(row).map(bindable);
  const res = db
    .query(
      `INSERT INTO connections (team, ${CONN_COLUMNS}, updated_at) VALUES (?, ${values.map(() => "?").join(", ")}, ?)
       ON CONFLICT (team, connection_id) ${conflict}`,
    )
    .run(team, ...values, now.getTime());
  if (onlyIfAbsent && res.changes === 0)
    throw new ConflictError(`The connection with connection_id: \`${c.connection_id}\` already exists`);
  return row;
}

export function listConnections(db: Database, team: string, opts: ListOptions & { id_pattern?: string } = {}): Page<ConnectionRecord> {
  const where = ` WHERE team = ?${opts.id_pattern !== undefined ? " AND connection_id LIKE ?" : ""}`;
  const params = opts.id_pattern !== undefined ? [team, opts.id_pattern] : [team];
  const page = pageClause(opts, CONN_SORTABLE, "connection_id", "connection_id");
  const rows = db
    .query(`SELECT ${CONN_COLUMNS} FROM connections${where}${page.sql}`)
    .all(...params, ...page.params) as Stored<ConnectionRecord>[];
  const { n } = db.query(`SELECT count(*) AS n FROM connections${where}`).get(...params) as { n: number };
  return { items: rows.map(connectionOf), total: n };
}

export function deleteConnection(db: Database, team: string, id: string): boolean {
  return db.query("DELETE FROM connections WHERE team = ? AND connection_id = ?").run(team, id).changes > 0;
}

/** Every team's variables as stored (secrets rotation), in a stable order so slices neither skip nor repeat. */
export function listAllVariables(db: Database, slice: Slice): TeamOwned<VariableRecord>[] {
  const rows = db
    .query(`SELECT team, ${VAR_COLUMNS} FROM variables ORDER BY team, key LIMIT ? OFFSET ?`)
    .all(slice.limit, slice.offset) as Stored<TeamOwned<VariableRecord>>[];
  return rows.map((r) => variableOf(r));
}

/** Every team's connections as stored (secrets rotation), in a stable order. */
export function listAllConnections(db: Database, slice: Slice): TeamOwned<ConnectionRecord>[] {
  const rows = db
    .query(`SELECT team, ${CONN_COLUMNS} FROM connections ORDER BY team, connection_id LIMIT ? OFFSET ?`)
    .all(slice.limit, slice.offset) as Stored<TeamOwned<ConnectionRecord>>[];
  return rows.map((r) => connectionOf(r));
}

/** Secrets rotation: compare-and-set of every rewrite in one transaction; a stale `from` rolls all back. */
export function rewriteSecrets(db: Database, rewrites: SecretRewrite[]): number {
  const setValue = db.query("UPDATE variables SET value = ?, is_encrypted = 1 WHERE team = ? AND key = ? AND value = ?");
  const setConn = db.query(
    `UPDATE connections SET password = ?, extra = ?, is_encrypted = ?, is_extra_encrypted = ?
      WHERE team = ? AND connection_id = ? AND password IS ? AND extra IS ?`,
  );
  return db.transaction(() => {
    for (const r of rewrites) {
      if ("webhook_id" in r) {
        if (rewriteWebhookSecret(db, r) !== 1) throw staleRewrite(r);
        continue;
      }
      const changed =
        "variable" in r
          ? setValue.run(r.to, r.team, r.variable, r.from).changes
          : setConn.run(
              r.to.password,
              r.to.extra,
              Number(r.to.password !== null),
              Number(r.to.extra !== null),
              r.team,
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
  const what = "webhook_id" in r ? `webhook ${r.webhook_id}` : "variable" in r ? `variable ${r.variable}` : `connection ${r.connection_id}`;
  return new ConflictError(
    `${what} of team ${r.team} changed or was deleted while secrets were being re-encrypted; nothing was changed, run it again`,
  );
}
