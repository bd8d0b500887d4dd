/**
 * countActiveTaskInstances for both stores: one GROUP BY (state, team, dag_id) query over queued and running task
 * instances, folded here into the per-DAG counts (max_active_tasks) and the per-team usage (team quotas). State
 * leads the groups as it leads SQLite's index on these rows (0026): read in its order, with no sort.
 */
import { teamKey, type ActiveTaskCounts, type PoolOccupancy } from "../domain";

/**
 * The query both stores run; `and`, a further term on the same rows (SQLite repeats its partial index's terms:
 * sqlite/partial-index-terms.ts). `executor = 'inline'` is the inline runner's executor name (executors/inline-rules.ts,
 * which the store may not import): http tasks running inside the control plane, for max_inline_requests.
 */
export const activeCountsSql = (and?: string) => `SELECT team, dag_id, count(*) AS tasks, sum(pool_slots) AS pool_slots,
    sum(CASE WHEN state = 'running' AND executor = 'inline' THEN 1 ELSE 0 END) AS inline_running
  FROM task_instances WHERE state IN ('queued', 'running')${and ? ` AND ${and}` : ""} GROUP BY state, team, dag_id`;
export const ACTIVE_COUNTS_SQL = activeCountsSql();

export interface ActiveCountRow {
  team: string;
  dag_id: string;
  tasks: number | string;
  pool_slots: number | string;
  inline_running: number | string;
}

/** Folds the query's rows (a DAG's queued and running come apart); Postgres returns sums of bigints as strings, hence Number(). */
export function toActiveCounts(rows: readonly ActiveCountRow[]): ActiveTaskCounts {
  const counts: ActiveTaskCounts = { byDag: new Map(), byTeam: new Map() };
  for (const r of rows) {
    const tasks = Number(r.tasks);
    const dag = teamKey(r.team, r.dag_id);
    counts.byDag.set(dag, (counts.byDag.get(dag) ?? 0) + tasks);
    const team = counts.byTeam.get(r.team) ?? { tasks: 0, pool_slots: 0, inline: 0 };
    team.tasks += tasks;
    team.pool_slots += Number(r.pool_slots);
    team.inline += Number(r.inline_running);
    counts.byTeam.set(r.team, team);
  }
  return counts;
}

/**
 * Both capacity reads of a tick from one statement, folded (toCapacity) into countActiveTaskInstances' counts and
 * listPoolUsage's pools: the queued and running task instances by state, team, DAG and pool, and after them the
 * deferred ones of the pools whose include_deferred counts them. State leads the first GROUP BY because it leads
 * SQLite's index holding these columns (0026): the groups come in the index's order, with no sort (10,000 queued:
 * 1.3 ms against 11-13 with the rows looked up and sorted). The deferred part is read from those pools outward (a
 * CROSS JOIN keeps SQLite's loops in that order), so with none (include_deferred is rare) it reads no task
 * instance: 10,000 sensors waiting deferred cost nothing.
 * `and(alias)`: a further term on the task instances (SQLite repeats its partial index's terms).
 */
export const capacitySql = (
  and?: (alias: string) => string,
) => `SELECT state, team, dag_id, pool, count(*) AS tasks, sum(pool_slots) AS pool_slots,
    sum(CASE WHEN state = 'running' AND executor = 'inline' THEN 1 ELSE 0 END) AS inline_running
  FROM task_instances WHERE state IN ('queued', 'running')${and ? ` AND ${and("")}` : ""} GROUP BY state, team, dag_id, pool
UNION ALL
SELECT t.state, t.team, t.dag_id, t.pool, count(*) AS tasks, sum(t.pool_slots) AS pool_slots, 0 AS inline_running
  FROM pools p CROSS JOIN task_instances t
  WHERE p.include_deferred AND t.state = 'deferred'${and ? ` AND ${and("t.")}` : ""} AND t.team = p.team AND t.pool = p.name
  GROUP BY t.state, t.team, t.dag_id, t.pool`;
export const CAPACITY_SQL = capacitySql();

export interface CapacityRow extends ActiveCountRow {
  state: "queued" | "running" | "deferred";
  pool: string;
}

/** A pool as the capacity read has it; SQLite answers include_deferred as 0 or 1. */
export type CapacityPoolRow = Pick<PoolOccupancy, "team" | "name" | "slots"> & { include_deferred: boolean | number };

/**
 * CAPACITY_SQL's rows and every pool (in id order) as the two reads would answer them; deferred_slots only of a pool
 * whose include_deferred counts them (0 in the others).
 */
export function toCapacity(
  rows: readonly CapacityRow[],
  pools: readonly CapacityPoolRow[],
): { active: ActiveTaskCounts; pools: PoolOccupancy[] } {
  const slots = new Map<string, { running: number; queued: number; deferred: number }>();
  let deferredRows = false;
  for (const r of rows) {
    const poolKey = teamKey(r.team, r.pool);
    let used = slots.get(poolKey);
    if (!used) slots.set(poolKey, (used = { running: 0, queued: 0, deferred: 0 }));
    used[r.state] += Number(r.pool_slots);
    if (r.state === "deferred") deferredRows = true;
  }
  return {
    // toActiveCounts adds up a DAG's rows (its states and pools come apart here); a deferred sensor is not active.
    active: toActiveCounts(deferredRows ? rows.filter((r) => r.state !== "deferred") : rows),
    pools: pools.map((p) => {
      const used = slots.get(teamKey(p.team, p.name));
      return {
        team: p.team,
        name: p.name,
        slots: p.slots,
        include_deferred: p.include_deferred === true || p.include_deferred === 1,
        running_slots: used?.running ?? 0,
        queued_slots: used?.queued ?? 0,
        deferred_slots: used?.deferred ?? 0,
      };
    }),
  };
}
