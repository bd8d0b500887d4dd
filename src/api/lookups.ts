/** Loading the thing a path names, or a 404 that says exactly what was not found (Airflow's wording). */
import { NotFoundError, type DagRecord, type DagRunRecord, type TaskInstanceRecord } from "../domain";
import type { RecordLookups } from "../store";

export async function getDagOr404(store: Pick<RecordLookups, "getDag">, dagId: string): Promise<DagRecord> {
  const dag = await store.getDag(dagId);
  if (!dag) throw new NotFoundError(`The Dag with ID: \`${dagId}\` was not found`);
  return dag;
}

export async function getDagRunOr404(store: Pick<RecordLookups, "getDagRun">, dagId: string, runId: string): Promise<DagRunRecord> {
  const run = await store.getDagRun(dagId, runId);
  if (!run) throw new NotFoundError(`The DagRun with dag_id: \`${dagId}\` and run_id: \`${runId}\` was not found`);
  return run;
}

export async function getTaskInstanceOr404(
  store: Pick<RecordLookups, "getTaskInstance">,
  dagId: string,
  runId: string,
  taskId: string,
): Promise<TaskInstanceRecord> {
  const ti = await store.getTaskInstance(dagId, runId, taskId);
  if (!ti)
    throw new NotFoundError(`The Task Instance with dag_id: \`${dagId}\`, run_id: \`${runId}\` and task_id: \`${taskId}\` was not found`);
  return ti;
}
