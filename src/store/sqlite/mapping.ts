/** Dynamic task mapping on SQLite (ports/mapping.ts). */
import type { Database } from "bun:sqlite";
import { indexedState } from "./partial-index-terms";
import type { XComKey, XComRecord } from "../../domain";
import type { ActiveTaskKey, TaskExpansion } from "../ports/mapping";
import { toXCom, type XComRow } from "./rows";
import { CHANGE_STAMP_SQL, bumpChangeCounter } from "./task-instances";

const COPY_COLUMNS = "dag_run_id, team, dag_id, run_id, task_id, state, operator, pool, pool_slots, priority_weight";

// The siblings 1..count-1 are copies of the expanded row: a recursive series, so one statement makes them all.
// They are new task instances, as in Airflow, whatever try the expanded row is on (a cleared task's instance 0 is
// on its next try): try 1, with the task's own retries (the row's max_tries counts them from its try; see clearFor).
// An index an earlier expansion had (left `removed` when the task was cleared whole) already exists: it is
// revived by REVIVE_SIBLINGS instead, keeping its id, its history and the next try the clear gave it.
const INSERT_SIBLINGS = `INSERT INTO task_instances (${COPY_COLUMNS}, try_number, max_tries, map_index, updated_at)
  WITH RECURSIVE idx(i) AS (SELECT 1 WHERE ?1 > 1 UNION ALL SELECT i + 1 FROM idx WHERE i + 1 < ?1)
  SELECT ${COPY_COLUMNS}, 1, max(0, max_tries - try_number + 1), idx.i, ?2 FROM task_instances, idx WHERE task_instances.id = ?3
  ON CONFLICT (dag_run_id, task_id, map_index) DO NOTHING`;
const REVIVE_SIBLINGS = `UPDATE task_instances SET state = 'none', updated_at = ?2, ${CHANGE_STAMP_SQL}
  WHERE (dag_run_id, task_id) = (SELECT dag_run_id, task_id FROM task_instances WHERE id = ?3)
    AND map_index BETWEEN 1 AND ?1 - 1 AND state = 'removed'`;

export function expandTaskInstances(db: Database, expansions: readonly TaskExpansion[], now: Date): boolean[] {
  const claim = db.query(
    `UPDATE task_instances SET map_index = 0, updated_at = ?, ${CHANGE_STAMP_SQL} WHERE id = ? AND map_index = -1 AND state = 'none'`,
  );
  const revive = db.query(REVIVE_SIBLINGS);
  const siblings = db.query(INSERT_SIBLINGS);
  return db
    .transaction(() => {
      bumpChangeCounter(db);
      return expansions.map((e) => {
        if (claim.run(now.getTime(), e.id).changes === 0) return false;
        revive.run(e.count, now.getTime(), e.id);
        siblings.run(e.count, now.getTime(), e.id);
        return true;
      });
    })
    .immediate();
}

export function listMappedXComs(db: Database, key: Omit<XComKey, "map_index">): XComRecord[] {
  const rows = db
    .query(
      `SELECT team, dag_id, run_id, task_id, map_index, key, value, timestamp FROM xcom
       WHERE team = ? AND dag_id = ? AND run_id = ? AND task_id = ? AND key = ? AND map_index >= 0 ORDER BY map_index`,
    )
    .all(key.team, key.dag_id, key.run_id, key.task_id, key.key) as XComRow[];
  return rows.map(toXCom);
}

/**
 * Queued and running task instances per task (max_active_tis_per_dag). Through the state index (the `+` keeps
 * SQLite, which has no statistics, off the natural key): by (team, dag_id) it walked every task instance the DAG
 * ever had, on every tick with such a task waiting.
 */
export function countActiveByTask(db: Database, tasks: readonly ActiveTaskKey[]): number[] {
  if (tasks.length === 0) return [];
  const rows = db
    .query(
      `SELECT k.key AS i, (SELECT count(*) FROM task_instances t
         WHERE +t.team = k.value ->> '$[0]' AND +t.dag_id = k.value ->> '$[1]' AND +t.task_id = k.value ->> '$[2]'
           AND t.state IN ('queued', 'running') AND ${indexedState("t.")}) AS n
       FROM json_each(?) k`,
    )
    .all(JSON.stringify(tasks.map((t) => [t.team, t.dag_id, t.task_id]))) as { i: number; n: number }[];
  return rows.sort((a, b) => a.i - b.i).map((r) => r.n);
}
