/** A run's task instances as the grid's summaries read them (domain/task-summaries.ts), on Postgres. */
import type { MappedStateGroup, TaskInstanceSummarySource, TaskState } from "../../domain";
import { query, type Db } from "./client";

type UnmappedRow = {
  task_id: string;
  state: string;
  try_number: number;
  max_tries: number;
  start_date: Date | null;
  end_date: Date | null;
};
type GroupRow = Omit<MappedStateGroup, "state"> & { state: string };

export async function readTaskInstanceSummaries(db: Db, dagRunId: number, taskIds?: readonly string[]): Promise<TaskInstanceSummarySource> {
  // Both through UNIQUE (dag_run_id, task_id, map_index); a task mapped over 10,000 items is a row per state.
  const only = taskIds ? " AND task_id = ANY($2::text[])" : "";
  const params = taskIds ? [dagRunId, taskIds] : [dagRunId];
  const [unmapped, groups] = await Promise.all([
    query<UnmappedRow>(
      db,
      `SELECT task_id, state, try_number, max_tries, start_date, end_date FROM task_instances
       WHERE dag_run_id = $1 AND map_index < 0${only} ORDER BY id`,
      params,
    ),
    query<GroupRow>(
      db,
      `SELECT task_id, state, count(*)::int AS count, max(try_number) AS try_number, max(max_tries) AS max_tries,
         min(start_date) AS start_date, max(end_date) AS end_date, count(end_date)::int AS ended
       FROM task_instances WHERE dag_run_id = $1 AND map_index >= 0${only} GROUP BY task_id, state ORDER BY min(id)`,
      params,
    ),
  ]);
  return {
    unmapped: unmapped.map((r) => ({ ...r, state: r.state as TaskState })),
    mapped: groups.map((r) => ({ ...r, state: r.state as TaskState })),
  };
}
