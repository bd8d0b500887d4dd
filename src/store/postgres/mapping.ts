/** Dynamic task mapping on Postgres (ports/mapping.ts). */
import type { Pool } from "./client";
import { STAMP_CHANGE } from "./change-stamp";
import type { XComKey, XComRecord } from "../../domain";
import type { ActiveTaskKey, TaskExpansion } from "../ports/mapping";
import { arrayParam, execute, notIndexed, query } from "./client";
import { toXCom, XCOM_COLUMNS } from "./rows";

const COPY_COLUMNS = "dag_run_id, team, dag_id, run_id, task_id, state, operator, pool, pool_slots, priority_weight";

export async function expandTaskInstances(sql: Pool, expansions: readonly TaskExpansion[], now: Date): Promise<boolean[]> {
  if (expansions.length === 0) return [];
  return (await sql.begin(async (tx) => {
    const applied: boolean[] = [];
    for (const e of expansions) {
      const claimed = await execute(
        tx,
        `UPDATE task_instances SET map_index = 0, updated_at = $1, ${STAMP_CHANGE} WHERE id = $2 AND ${notIndexed("map_index = -1 AND state = 'none'")}`,
        [now, e.id],
      );
      // An index an earlier expansion had (left `removed` when the task was cleared whole) is revived, keeping its
      // history and the next try the clear gave it (Airflow restores such an instance and schedules its next try).
      if (claimed > 0 && e.count > 1) {
        await execute(
          tx,
          `UPDATE task_instances t SET state = 'none', updated_at = $1, ${STAMP_CHANGE} FROM task_instances e
           WHERE e.id = $3 AND t.dag_run_id = e.dag_run_id AND t.task_id = e.task_id
             AND t.map_index BETWEEN 1 AND $2::int - 1 AND t.state = 'removed'`,
          [now, e.count, e.id],
        );
        // New task instances, as in Airflow, whatever try the expanded row is on (a cleared task's instance 0 is on
        // its next try): try 1, with the task's own retries (the row's max_tries counts them from its try; see clearFor).
        await execute(
          tx,
          `INSERT INTO task_instances (${COPY_COLUMNS}, try_number, max_tries, map_index, updated_at)
           SELECT ${COPY_COLUMNS}, 1, GREATEST(0, max_tries - try_number + 1), g.i, $1
           FROM task_instances, generate_series(1, $2::int - 1) AS g(i) WHERE id = $3
           ON CONFLICT (dag_run_id, task_id, map_index) DO NOTHING`,
          [now, e.count, e.id],
        );
      }
      applied.push(claimed > 0);
    }
    return applied;
  })) as boolean[];
}

export async function listMappedXComs(db: Pool, key: Omit<XComKey, "map_index">): Promise<XComRecord[]> {
  const rows = await query<XComRecord>(
    db,
    `SELECT ${XCOM_COLUMNS} FROM xcom WHERE team = $1 AND dag_id = $2 AND run_id = $3 AND task_id = $4 AND key = $5 AND map_index >= 0
     ORDER BY map_index`,
    [key.team, key.dag_id, key.run_id, key.task_id, key.key],
  );
  return rows.map(toXCom);
}

export async function countActiveByTask(db: Pool, tasks: readonly ActiveTaskKey[]): Promise<number[]> {
  if (tasks.length === 0) return [];
  const rows = await query<{ n: number }>(
    db,
    `SELECT (SELECT count(*)::int FROM task_instances t
       WHERE t.team = k.team AND t.dag_id = k.dag_id AND t.task_id = k.task_id AND t.state IN ('queued', 'running')) AS n
     FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS k(team, dag_id, task_id, ord)
     ORDER BY k.ord`,
    [arrayParam(tasks.map((t) => t.team)), arrayParam(tasks.map((t) => t.dag_id)), arrayParam(tasks.map((t) => t.task_id))],
  );
  return rows.map((r) => r.n);
}
