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
 * Both capacity reads of a tick from one scan of the queued and running task instances: by state, team, DAG and
 * pool, folded (toCapacity) into countActiveTaskInstances' counts and listPoolUsage's pools. State leads the
 * GROUP BY because it leads SQLite's index holding these columns (0026): the groups come in the index's order,
 * with no sort (10,000 queued: 1.3 ms against 11-13 with the rows looked up and sorted).
 */
export const capacitySql = (and?: string) => `SELECT team, dag_id, pool, count(*) AS tasks, sum(pool_slots) AS pool_slots,
    sum(CASE WHEN state = 'running' THEN pool_slots ELSE 0 END) AS running_slots,
    sum(CASE WHEN state = 'running' AND executor = 'inline' THEN 1 ELSE 0 END) AS inline_running
  FROM task_instances WHERE state IN ('queued', 'running')${and ? ` AND ${and}` : ""} GROUP BY state, team, dag_id, pool`;
export const CAPACITY_SQL = capacitySql();

export interface CapacityRow extends ActiveCountRow {
  pool: string;
  running_slots: number | string;
}

/** CAPACITY_SQL's rows and every pool (team, name, slots; in id order) as the two reads would answer them. */
export function toCapacity(
  rows: readonly CapacityRow[],
  pools: readonly Pick<PoolOccupancy, "team" | "name" | "slots">[],
): { active: ActiveTaskCounts; pools: PoolOccupancy[] } {
  const slots = new Map<string, { running: number; queued: number }>();
  for (const r of rows) {
    const poolKey = teamKey(r.team, r.pool);
    const used = slots.get(poolKey) ?? { running: 0, queued: 0 };
    used.running += Number(r.running_slots);
    used.queued += Number(r.pool_slots) - Number(r.running_slots);
    slots.set(poolKey, used);
  }
  return {
    // toActiveCounts adds up a DAG's rows (its states and pools come apart here).
    active: toActiveCounts(rows),
    pools: pools.map((p) => {
      const used = slots.get(teamKey(p.team, p.name));
      return { team: p.team, name: p.name, slots: p.slots, running_slots: used?.running ?? 0, queued_slots: used?.queued ?? 0 };
    }),
  };
}
