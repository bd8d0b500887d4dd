/** Pools (Airflow's): CRUD, each read carrying the pool's usage summed from task_instances in the same query. */
import type { Database } from "bun:sqlite";
import { ConflictError, type ListOptions, type Page, type PoolInput, type PoolRecord } from "../../domain";
import { POOL_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";

/** Slots in use per pool and state, summed once and joined to every pool row. */
const USAGE = `(SELECT pool,
    sum(CASE WHEN state = 'running' THEN pool_slots ELSE 0 END) AS running_slots,
    sum(CASE WHEN state = 'queued' THEN pool_slots ELSE 0 END) AS queued_slots,
    sum(CASE WHEN state = 'scheduled' THEN pool_slots ELSE 0 END) AS scheduled_slots
  FROM task_instances WHERE state IN ('running', 'queued', 'scheduled') GROUP BY pool)`;

const SELECT_POOLS = `SELECT p.name, p.slots, p.description, p.include_deferred,
    coalesce(u.running_slots, 0) AS running_slots, coalesce(u.queued_slots, 0) AS queued_slots,
    coalesce(u.scheduled_slots, 0) AS scheduled_slots
  FROM pools p LEFT JOIN ${USAGE} u ON u.pool = p.name`;

interface PoolRow {
  name: string;
  slots: number;
  description: string | null;
  include_deferred: number;
  running_slots: number;
  queued_slots: number;
  scheduled_slots: number;
}

const toPool = (r: PoolRow): PoolRecord => ({ ...r, include_deferred: r.include_deferred === 1 });

export function listPools(db: Database, opts: ListOptions & { name_pattern?: string } = {}): Page<PoolRecord> {
  const where = opts.name_pattern !== undefined ? " WHERE p.name LIKE ?" : "";
  const params = opts.name_pattern !== undefined ? [opts.name_pattern] : [];
  const page = pageClause(opts, POOL_SORTABLE, "id", "p.id");
  const rows = db.query(`${SELECT_POOLS}${where}${page.sql}`).all(...params, ...page.params) as PoolRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM pools p${where}`).get(...params) as { n: number };
  return { items: rows.map(toPool), total: n };
}

export function listPoolUsage(db: Database): PoolRecord[] {
  return (db.query(`${SELECT_POOLS} ORDER BY p.id`).all() as PoolRow[]).map(toPool);
}

export function getPool(db: Database, name: string): PoolRecord | null {
  const row = db.query(`${SELECT_POOLS} WHERE p.name = ?`).get(name) as PoolRow | null;
  return row ? toPool(row) : null;
}

export function createPool(db: Database, pool: PoolInput): PoolRecord {
  const res = db
    .query("INSERT INTO pools (name, slots, description, include_deferred) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING")
    .run(pool.name, pool.slots, pool.description, pool.include_deferred ? 1 : 0);
  if (res.changes === 0) throw new ConflictError(`The Pool with name: \`${pool.name}\` already exists`);
  return getPool(db, pool.name)!;
}

export function updatePool(db: Database, name: string, patch: Partial<Omit<PoolInput, "name">>): PoolRecord | null {
  const sets: string[] = [];
  const params: (string | number | null)[] = [];
  if (patch.slots !== undefined) sets.push("slots = ?"), params.push(patch.slots);
  if (patch.description !== undefined) sets.push("description = ?"), params.push(patch.description);
  if (patch.include_deferred !== undefined) sets.push("include_deferred = ?"), params.push(patch.include_deferred ? 1 : 0);
  if (sets.length && db.query(`UPDATE pools SET ${sets.join(", ")} WHERE name = ?`).run(...params, name).changes === 0) return null;
  return getPool(db, name);
}

export function deletePool(db: Database, name: string): boolean {
  return db.query("DELETE FROM pools WHERE name = ?").run(name).changes > 0;
}
