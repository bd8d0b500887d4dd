/** Variables and connections (Airflow's), each team's its own: one small function per SQL operation. */
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
import { execute, Params, query, type Db, type Pool } from "./client";
import { pgPageClause } from "./list-query";
import { rewriteWebhookSecrets } from "./webhooks";

const VAR_COLUMNS = "key, value, description, is_encrypted";
const CONN_FIELDS = [
  "connection_id",
  "conn_type",
  "description",
  "host",
  "login",
  "password",
  "schema",
  "port",
  "extra",
  "is_encrypted",
  "is_extra_encrypted",
] as const;
const CONN_COLUMNS = CONN_FIELDS.join(", ");

export async function getVariable(db: Db, team: string, key: string): Promise<VariableRecord | null> {
  const [row] = await query<VariableRecord>(db, `SELECT ${VAR_COLUMNS} FROM variables WHERE team = $1 AND key = $2`, [team, key]);
  return row ?? null;
}

export async function putVariable(db: Db, team: string, v: VariableRecord, now: Date, onlyIfAbsent = false): Promise<VariableRecord> {
  const conflict = onlyIfAbsent
    ? "DO NOTHING"
    : "DO UPDATE SET value = excluded.value, description = excluded.description, is_encrypted = excluded.is_encrypted, updated_at = excluded.updated_at";
  const stored: VariableRecord = { key: v.key, value: v.value, description: v.description ?? null, is_encrypted: v.is_encrypted ?? false };
  const changed = await execute(
    db,
    `INSERT INTO variables (team, ${VAR_COLUMNS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (team, key) ${conflict}`,
    [team, stored.key, stored.value, stored.description, stored.is_encrypted, now],
  );
  if (onlyIfAbsent && changed === 0) throw new ConflictError(`The Variable with key: \`${v.key}\` already exists`);
  return stored;
}

export async function listVariables(
  db: Db,
  team: string,
  opts: ListOptions & { key_pattern?: string } = {},
): Promise<Page<VariableRecord>> {
  const p = new Params();
  let where = ` WHERE team = ${p.add(team)}`;
  if (opts.key_pattern !== undefined) where += ` AND key ILIKE ${p.add(opts.key_pattern)}`;
  const filterParams = [...p.values];
  const page = pgPageClause(opts, VAR_SORTABLE, "key", "key", p);
  const items = await query<VariableRecord>(db, `SELECT ${VAR_COLUMNS} FROM variables${where}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM variables${where}`, filterParams)) as [{ n: number }];
  return { items, total: n };
}

export async function deleteVariable(db: Db, team: string, key: string): Promise<boolean> {
  return (await execute(db, "DELETE FROM variables WHERE team = $1 AND key = $2", [team, key])) > 0;
}

export async function getConnection(db: Db, team: string, id: string): Promise<ConnectionRecord | null> {
  const [row] = await query<ConnectionRecord>(db, `SELECT ${CONN_COLUMNS} FROM connections WHERE team = $1 AND connection_id = $2`, [
    team,
    id,
  ]);
  return row ?? null;
}

export async function putConnection(db: Db, team: string, c: ConnectionRecord, now: Date, onlyIfAbsent = false): Promise<ConnectionRecord> {
  const row = connectionRow(c);
  const set = CONN_FIELDS.filter((k) => k !== "connection_id").map((k) => `${k} = excluded.${k}`);
  const conflict = onlyIfAbsent ? "DO NOTHING" : `DO UPDATE SET ${set.join(", ")}, updated_at = excluded.updated_at`;
  const p = new Params();
  const marks = [team, ...CONN_FIELDS.map((k) => row[k]), now].map((v) => p.add(v)).join(", ");
  const changed = await execute(
    db,
    `INSERT INTO connections (team, ${CONN_COLUMNS}, updated_at) VALUES (${marks}) ON CONFLICT (team, connection_id) ${conflict}`,
    p.values,
  );
  if (onlyIfAbsent && changed === 0) throw new ConflictError(`The connection with connection_id: \`${c.connection_id}\` already exists`);
  return row;
}

export async function listConnections(
  db: Db,
  team: string,
  opts: ListOptions & { id_pattern?: string } = {},
): Promise<Page<ConnectionRecord>> {
  const p = new Params();
  let where = ` WHERE team = ${p.add(team)}`;
  if (opts.id_pattern !== undefined) where += ` AND connection_id ILIKE ${p.add(opts.id_pattern)}`;
  const filterParams = [...p.values];
  const page = pgPageClause(opts, CONN_SORTABLE, "connection_id", "connection_id", p);
  const items = await query<ConnectionRecord>(db, `SELECT ${CONN_COLUMNS} FROM connections${where}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM connections${where}`, filterParams)) as [{ n: number }];
  return { items, total: n };
}

export async function deleteConnection(db: Db, team: string, id: string): Promise<boolean> {
  return (await execute(db, "DELETE FROM connections WHERE team = $1 AND connection_id = $2", [team, id])) > 0;
}

/** Every team's variables as stored (secrets rotation), in a stable order so slices neither skip nor repeat. */
export function listAllVariables(db: Db, slice: Slice): Promise<TeamOwned<VariableRecord>[]> {
  return query<TeamOwned<VariableRecord>>(db, `SELECT team, ${VAR_COLUMNS} FROM variables ORDER BY team, key LIMIT $1 OFFSET $2`, [
    slice.limit,
    slice.offset,
  ]);
}

/** Every team's connections as stored (secrets rotation), in a stable order. */
export function listAllConnections(db: Db, slice: Slice): Promise<TeamOwned<ConnectionRecord>[]> {
  return query<TeamOwned<ConnectionRecord>>(
    db,
    `SELECT team, ${CONN_COLUMNS} FROM connections ORDER BY team, connection_id LIMIT $1 OFFSET $2`,
    [slice.limit, slice.offset],
  );
}

/**
 * Secrets rotation: one batch compare-and-set per table in one transaction; if fewer rows matched than were
 * asked for, a `from` was stale: throwing rolls the whole rotation back.
 */
export async function rewriteSecrets(sql: Pool, rewrites: SecretRewrite[]): Promise<number> {
  const vars = rewrites.filter((r) => "variable" in r);
  const conns = rewrites.filter((r) => "connection_id" in r);
  const hooks = rewrites.filter((r) => "webhook_id" in r);
  return (await sql.begin(async (tx) => {
    const changedVars = vars.length
      ? await execute(
          tx,
          `UPDATE variables v SET value = u.to_value, is_encrypted = true
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(team, key, from_value, to_value)
            WHERE v.team = u.team AND v.key = u.key AND v.value = u.from_value`,
          [vars.map((r) => r.team), vars.map((r) => r.variable), vars.map((r) => r.from), vars.map((r) => r.to)],
        )
      : 0;
    if (changedVars !== vars.length) throw new ConflictError(STALE);
    const changedConns = conns.length
      ? await execute(
          tx,
          `UPDATE connections c SET password = u.to_password, extra = u.to_extra,
                  is_encrypted = u.to_password IS NOT NULL, is_extra_encrypted = u.to_extra IS NOT NULL
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                  AS u(team, connection_id, from_password, from_extra, to_password, to_extra)
            WHERE c.team = u.team AND c.connection_id = u.connection_id
              AND c.password IS NOT DISTINCT FROM u.from_password AND c.extra IS NOT DISTINCT FROM u.from_extra`,
          [
            conns.map((r) => r.team),
            conns.map((r) => r.connection_id),
            conns.map((r) => r.from.password),
            conns.map((r) => r.from.extra),
            conns.map((r) => r.to.password),
            conns.map((r) => r.to.extra),
          ],
        )
      : 0;
    if (changedConns !== conns.length) throw new ConflictError(STALE);
    const changedHooks = await rewriteWebhookSecrets(tx, hooks);
    if (changedHooks !== hooks.length) throw new ConflictError(STALE);
    return changedVars + changedConns + changedHooks;
  })) as number;
}

const STALE =
  "a variable, connection or webhook secret changed or was deleted while secrets were being re-encrypted; nothing was changed, run it again";
