/**
 * Loading the thing a path names inside the caller's team, or a 404 that says exactly what was not found
 * (Airflow's wording). Another team's record is not found with the same words: a team never learns what
 * another team has.
 */
import { NotFoundError, type DagRecord, type DagRunRecord, type TaskInstanceRecord } from "../domain";
import type { RecordLookups } from "../store";

export async function getDagOr404(store: Pick<RecordLookups, "getDag">, team: string, dagId: string): Promise<DagRecord> {
  const dag = await store.getDag(team, dagId);
  if (!dag) throw new NotFoundError(`The Dag with ID: \`${dagId}\` was not found`);
  return dag;
}

export async function getDagRunOr404(
  store: Pick<RecordLookups, "getDagRun">,
  team: string,
  dagId: string,
  runId: string,
): Promise<DagRunRecord> {
  const run = await store.getDagRun(team, dagId, runId);
  if (!run) throw new NotFoundError(`The DagRun with dag_id: \`${dagId}\` and run_id: \`${runId}\` was not found`);
  return run;
}

export async function getTaskInstanceOr404(
  store: Pick<RecordLookups, "getTaskInstance">,
  team: string,
  dagId: string,
  runId: string,
  taskId: string,
  mapIndex = -1,
): Promise<TaskInstanceRecord> {
  const ti = await store.getTaskInstance(team, dagId, runId, taskId, mapIndex);
  if (!ti)
    throw new NotFoundError(
      `The Task Instance with dag_id: \`${dagId}\`, run_id: \`${runId}\`, task_id: \`${taskId}\` and map_index: \`${mapIndex}\` was not found${mapIndex === -1 ? "; a mapped task's instances have map_index 0..n-1 (GET …/listMapped)" : ""}`,
    );
  return ti;
}
