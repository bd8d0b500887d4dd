/** A run's task instances as the grid's summaries read them (domain/task-summaries.ts), on SQLite. */
import type { Database } from "bun:sqlite";
import type { TaskInstanceSummarySource, TaskState } from "../../domain";
import { date } from "./rows";

type UnmappedRow = {
  task_id: string;
  state: string;
  try_number: number;
  max_tries: number;
  start_date: number | null;
  end_date: number | null;
};
type GroupRow = UnmappedRow & { count: number; ended: number };

export function readTaskInstanceSummaries(db: Database, dagRunId: number, taskIds?: readonly string[]): TaskInstanceSummarySource {
  // Both through UNIQUE (dag_run_id, task_id, map_index); a task mapped over 10,000 items is a row per state.
  const only = taskIds ? " AND task_id IN (SELECT value FROM json_each(?))" : "";
  const params: (number | string)[] = taskIds ? [dagRunId, JSON.stringify(taskIds)] : [dagRunId];
  const unmapped = db
    .query(
      `SELECT task_id, state, try_number, max_tries, start_date, end_date FROM task_instances
       WHERE dag_run_id = ? AND map_index < 0${only} ORDER BY id`,
    )
    .all(...params) as UnmappedRow[];
  const groups = db
    .query(
      `SELECT task_id, state, count(*) AS count, max(try_number) AS try_number, max(max_tries) AS max_tries,
         min(start_date) AS start_date, max(end_date) AS end_date, count(end_date) AS ended
       FROM task_instances WHERE dag_run_id = ? AND map_index >= 0${only} GROUP BY task_id, state ORDER BY min(id)`,
    )
    .all(...params) as GroupRow[];
  return {
    unmapped: unmapped.map((r) => ({ ...r, state: r.state as TaskState, start_date: date(r.start_date), end_date: date(r.end_date) })),
    mapped: groups.map((r) => ({ ...r, state: r.state as TaskState, start_date: date(r.start_date), end_date: date(r.end_date) })),
  };
}
