/**
 * countActiveTaskInstances for both stores: one GROUP BY (team, dag_id) query over queued and running task
 * instances, folded here into the per-DAG counts (max_active_tasks) and the per-team usage (team quotas).
 */
import { teamKey, type ActiveTaskCounts } from "../domain";

/**
 * The query both stores run. `executor = 'inline'` is the inline runner's executor name (executors/inline-rules.ts,
 * which the store may not import): http tasks running inside the control plane, for max_inline_requests.
 */
export const ACTIVE_COUNTS_SQL = `SELECT team, dag_id, count(*) AS tasks, sum(pool_slots) AS pool_slots,
    sum(CASE WHEN state = 'running' AND executor = 'inline' THEN 1 ELSE 0 END) AS inline_running
  FROM task_instances WHERE state IN ('queued', 'running') GROUP BY team, dag_id`;

export interface ActiveCountRow {
  team: string;
  dag_id: string;
  tasks: number | string;
  pool_slots: number | string;
  inline_running: number | string;
}

/** Folds the query's rows; Postgres returns sums of bigints as strings, hence Number(). */
export function toActiveCounts(rows: readonly ActiveCountRow[]): ActiveTaskCounts {
  const counts: ActiveTaskCounts = { byDag: new Map(), byTeam: new Map() };
  for (const r of rows) {
    const tasks = Number(r.tasks);
    counts.byDag.set(teamKey(r.team, r.dag_id), tasks);
    const team = counts.byTeam.get(r.team) ?? { tasks: 0, pool_slots: 0, inline: 0 };
    team.tasks += tasks;
    team.pool_slots += Number(r.pool_slots);
    team.inline += Number(r.inline_running);
    counts.byTeam.set(r.team, team);
  }
  return counts;
}
