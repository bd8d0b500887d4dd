/** depends_on_past: grouping the previous-run query's rows, the same for both stores (only the SQL differs). */
import type { TaskState, PreviousRunStates } from "../domain";

/** One row per task instance of the previous run; task_id and state are null when that run has none. */
export interface PreviousRunRow {
  asked_id: number;
  run_id: string;
  task_id: string | null;
  state: string | null;
}

/** One entry per asked run, in the order asked; `previous` is null when the query found no earlier run. */
export function groupPreviousRunStates(dagRunIds: number[], rows: PreviousRunRow[]): PreviousRunStates[] {
  const found = new Map<number, { run_id: string; states: Map<string, TaskState> }>();
  for (const r of rows) {
    let prev = found.get(r.asked_id);
    if (!prev) found.set(r.asked_id, (prev = { run_id: r.run_id, states: new Map() }));
    if (r.task_id !== null) prev.states.set(r.task_id, r.state as TaskState);
  }
  return dagRunIds.map((id) => ({ dag_run_id: id, previous: found.get(id) ?? null }));
}
