/**
 * Pools (Airflow's), each team's its own: CRUD, each read carrying the pool's usage summed from the team's
 * task_instances in the same query.
 */
import { ConflictError, type ListOptions, type Page, type PoolInput, type PoolOccupancy, type PoolRecord } from "../../domain";
import { POOL_SORTABLE } from "../sortable";
import { execute, Params, query, type Db } from "./client";
import { pgPageClause } from "./list-query";

/** Slots in use per team, pool and state, summed once and joined to every pool of the same team. */
const USAGE = `(SELECT team, pool,
    sum(pool_slots) FILTER (WHERE state = 'running') AS running_slots,
    sum(pool_slots) FILTER (WHERE state = 'queued') AS queued_slots,
    sum(pool_slots) FILTER (WHERE state = 'scheduled') AS scheduled_slots,
    sum(pool_slots) FILTER (WHERE state = 'deferred') AS deferred_slots
  FROM task_instances WHERE state IN ('running', 'queued', 'scheduled', 'deferred') GROUP BY team, pool)`;

const SELECT_POOLS = `SELECT p.team, p.name, p.slots, p.description, p.include_deferred,
    COALESCE(u.running_slots, 0) AS running_slots, COALESCE(u.queued_slots, 0) AS queued_slots,
    COALESCE(u.scheduled_slots, 0) AS scheduled_slots, COALESCE(u.deferred_slots, 0) AS deferred_slots
  FROM pools p LEFT JOIN ${USAGE} u ON u.team = p.team AND u.pool = p.name`;

export async function listPools(db: Db, team: string, opts: ListOptions & { name_pattern?: string } = {}): Promise<Page<PoolRecord>> {
  const p = new Params();
  let where = ` WHERE p.team = ${p.add(team)}`;
  if (opts.name_pattern !== undefined) where += ` AND p.name ILIKE ${p.add(opts.name_pattern)}`;
  const filterParams = [...p.values];
  const page = pgPageClause(opts, POOL_SORTABLE, "id", "p.id", p);
  const items = await query<PoolRecord>(db, `${SELECT_POOLS}${where}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM pools p${where}`, filterParams)) as [{ n: number }];
  return { items, total: n };
}

/**
 * Slots held per team and pool: running and queued only. Scheduled ones hold nothing, and counting them
 * visited every waiting task instance on each tick (10,000 in a large fan-out); this reads the few that run.
 */
const OCCUPIED = `(SELECT team, pool,
    sum(pool_slots) FILTER (WHERE state = 'running') AS running_slots,
    sum(pool_slots) FILTER (WHERE state = 'queued') AS queued_slots
  FROM task_instances WHERE state IN ('running', 'queued') GROUP BY team, pool)`;

/**
 * The slots a pool's deferred task instances hold: only with include_deferred (the CASE reads no task instance for
 * the others, so 10,000 sensors waiting deferred in pools that do not count them cost nothing).
 */
const DEFERRED = `CASE WHEN p.include_deferred THEN (SELECT COALESCE(sum(t.pool_slots), 0) FROM task_instances t
    WHERE t.state = 'deferred' AND t.team = p.team AND t.pool = p.name) ELSE 0 END`;

/** Every team's pools with the slots held in them (the scheduler's capacity step keys them by team and name). */
export async function listPoolUsage(db: Db): Promise<PoolOccupancy[]> {
  return query<PoolOccupancy>(db, POOL_USAGE_SQL);
}

const POOL_USAGE_SQL = `SELECT p.team, p.name, p.slots, p.include_deferred, COALESCE(u.running_slots, 0) AS running_slots,
       COALESCE(u.queued_slots, 0) AS queued_slots, ${DEFERRED} AS deferred_slots
     FROM pools p LEFT JOIN ${OCCUPIED} u ON u.team = p.team AND u.pool = p.name ORDER BY p.id`;

export async function getPool(db: Db, team: string, name: string): Promise<PoolRecord | null> {
  const [row] = await query<PoolRecord>(db, `${SELECT_POOLS} WHERE p.team = $1 AND p.name = $2`, [team, name]);
  return row ?? null;
}

export async function createPool(db: Db, team: string, pool: PoolInput): Promise<PoolRecord> {
  const changed = await execute(
    db,
    "INSERT INTO pools (team, name, slots, description, include_deferred) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team, name) DO NOTHING",
    [team, pool.name, pool.slots, pool.description, pool.include_deferred],
  );
  if (changed === 0) throw new ConflictError(`The Pool with name: \`${pool.name}\` already exists`);
  const created = await getPool(db, team, pool.name);
  if (!created) throw new Error(`pool ${pool.name} of team ${team} vanished right after it was written`);
  return created;
}

export async function updatePool(db: Db, team: string, name: string, patch: Partial<Omit<PoolInput, "name">>): Promise<PoolRecord | null> {
  const p = new Params();
  const sets: string[] = [];
  if (patch.slots !== undefined) sets.push(`slots = ${p.add(patch.slots)}`);
  if (patch.description !== undefined) sets.push(`description = ${p.add(patch.description)}`);
  if (patch.include_deferred !== undefined) sets.push(`include_deferred = ${p.add(patch.include_deferred)}`);
  if (sets.length) {
    const where = `team = ${p.add(team)} AND name = ${p.add(name)}`;
    if ((await execute(db, `UPDATE pools SET ${sets.join(", ")} WHERE ${where}`, p.values)) === 0) return null;
  }
  return getPool(db, team, name);
}

export async function deletePool(db: Db, team: string, name: string): Promise<boolean> {
  return (await execute(db, "DELETE FROM pools WHERE team = $1 AND name = $2", [team, name])) > 0;
}
