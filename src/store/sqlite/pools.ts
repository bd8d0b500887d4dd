/**
 * Pools (Airflow's), each team's its own: CRUD, each read carrying the pool's usage summed from the team's
 * task_instances in the same query.
 */
import type { Database } from "bun:sqlite";
import { indexedState } from "./partial-index-terms";
import {
  ConflictError,
  type ActiveTaskCounts,
  type ListOptions,
  type Page,
  type PoolInput,
  type PoolOccupancy,
  type PoolRecord,
} from "../../domain";
import { capacitySql, toCapacity, type CapacityPoolRow, type CapacityRow } from "../active-counts";
import { POOL_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";

/** Slots in use per team, pool and state, summed once and joined to every pool row of the same team. */
const USAGE = `(SELECT team, pool,
    sum(CASE WHEN state = 'running' THEN pool_slots ELSE 0 END) AS running_slots,
    sum(CASE WHEN state = 'queued' THEN pool_slots ELSE 0 END) AS queued_slots,
    sum(CASE WHEN state = 'scheduled' THEN pool_slots ELSE 0 END) AS scheduled_slots,
    sum(CASE WHEN state = 'deferred' THEN pool_slots ELSE 0 END) AS deferred_slots
  FROM task_instances WHERE state IN ('running', 'queued', 'scheduled', 'deferred') AND ${indexedState()} GROUP BY team, pool)`;

const SELECT_POOLS = `SELECT p.team, p.name, p.slots, p.description, p.include_deferred,
    coalesce(u.running_slots, 0) AS running_slots, coalesce(u.queued_slots, 0) AS queued_slots,
    coalesce(u.scheduled_slots, 0) AS scheduled_slots, coalesce(u.deferred_slots, 0) AS deferred_slots
  FROM pools p LEFT JOIN ${USAGE} u ON u.team = p.team AND u.pool = p.name`;

interface PoolRow {
  team: string;
  name: string;
  slots: number;
  description: string | null;
  include_deferred: number;
  running_slots: number;
  queued_slots: number;
  scheduled_slots: number;
  deferred_slots: number;
}

const toPool = (r: PoolRow): PoolRecord => ({ ...r, include_deferred: r.include_deferred === 1 });

export function listPools(db: Database, team: string, opts: ListOptions & { name_pattern?: string } = {}): Page<PoolRecord> {
  const where = ` WHERE p.team = ?${opts.name_pattern !== undefined ? " AND p.name LIKE ?" : ""}`;
  const params = opts.name_pattern !== undefined ? [team, opts.name_pattern] : [team];
  const page = pageClause(opts, POOL_SORTABLE, "id", "p.id");
  const rows = db.query(`${SELECT_POOLS}${where}${page.sql}`).all(...params, ...page.params) as PoolRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM pools p${where}`).get(...params) as { n: number };
  return { items: rows.map(toPool), total: n };
}

/**
 * Slots held per team and pool: running and queued only. Scheduled ones hold nothing, and counting them
 * visited every waiting task instance on each tick (10,000 in a large fan-out); this reads the few that run.
 */
const OCCUPIED = `(SELECT team, pool,
    sum(CASE WHEN state = 'running' THEN pool_slots ELSE 0 END) AS running_slots,
    sum(CASE WHEN state = 'queued' THEN pool_slots ELSE 0 END) AS queued_slots
  FROM task_instances WHERE state IN ('running', 'queued') AND ${indexedState()} GROUP BY team, pool)`;

/**
 * The slots a pool's deferred task instances hold: only with include_deferred (the CASE reads no task instance for
 * the others, so 10,000 sensors waiting deferred in pools that do not count them cost nothing).
 */
const DEFERRED = `CASE WHEN p.include_deferred THEN (SELECT coalesce(sum(t.pool_slots), 0) FROM task_instances t
    WHERE t.state = 'deferred' AND ${indexedState("t.")} AND t.team = p.team AND t.pool = p.name) ELSE 0 END`;

/** Every team's pools with the slots held in them (the scheduler's capacity step keys them by team and name). */
export function listPoolUsage(db: Database): PoolOccupancy[] {
  const rows = db
    .query(
      `SELECT p.team, p.name, p.slots, p.include_deferred, coalesce(u.running_slots, 0) AS running_slots,
         coalesce(u.queued_slots, 0) AS queued_slots, ${DEFERRED} AS deferred_slots
       FROM pools p LEFT JOIN ${OCCUPIED} u ON u.team = p.team AND u.pool = p.name ORDER BY p.id`,
    )
    .all() as (Omit<PoolOccupancy, "include_deferred"> & { include_deferred: number })[];
  return rows.map((r) => ({ ...r, include_deferred: r.include_deferred === 1 }));
}

const CAPACITY_SQL = capacitySql(indexedState);

/** countActiveTaskInstances and listPoolUsage from one scan (CAPACITY_SQL), as a woken tick reads them. */
export function loadCapacity(db: Database): { active: ActiveTaskCounts; pools: PoolOccupancy[] } {
  const rows = db.query(CAPACITY_SQL).all() as CapacityRow[];
  return toCapacity(rows, db.query("SELECT team, name, slots, include_deferred FROM pools ORDER BY id").all() as CapacityPoolRow[]);
}

export function getPool(db: Database, team: string, name: string): PoolRecord | null {
  const row = db.query(`${SELECT_POOLS} WHERE p.team = ? AND p.name = ?`).get(team, name) as PoolRow | null;
  return row ? toPool(row) : null;
}

export function createPool(db: Database, team: string, pool: PoolInput): PoolRecord {
  const res = db
    .query(
      "INSERT INTO pools (team, name, slots, description, include_deferred) VALUES (?, ?, ?, ?, ?) ON CONFLICT (team, name) DO NOTHING",
    )
    .run(team, pool.name, pool.slots, pool.description, pool.include_deferred ? 1 : 0);
  if (res.changes === 0) throw new ConflictError(`The Pool with name: \`${pool.name}\` already exists`);
  return storedPool(db, team, pool.name);
}

export function updatePool(db: Database, team: string, name: string, patch: Partial<Omit<PoolInput, "name">>): PoolRecord | null {
  const sets: string[] = [];
  const params: (string | number | null)[] = [];
  if (patch.slots !== undefined) sets.push("slots = ?"), params.push(patch.slots);
  if (patch.description !== undefined) sets.push("description = ?"), params.push(patch.description);
  if (patch.include_deferred !== undefined) sets.push("include_deferred = ?"), params.push(patch.include_deferred ? 1 : 0);
  if (sets.length && db.query(`UPDATE pools SET ${sets.join(", ")} WHERE team = ? AND name = ?`).run(...params, team, name).changes === 0)
    return null;
  return getPool(db, team, name);
}

export function deletePool(db: Database, team: string, name: string): boolean {
  return db.query("DELETE FROM pools WHERE team = ? AND name = ?").run(team, name).changes > 0;
}

/** A pool just written in this transaction: it must be there. */
function storedPool(db: Database, team: string, name: string): PoolRecord {
  const pool = getPool(db, team, name);
  if (!pool) throw new Error(`pool ${name} of team ${team} vanished right after it was written`);
  return pool;
}
