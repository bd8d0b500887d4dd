/**
 * What a mapped task instance receives: `LEOFLOW_MAP_INDEX`, each mapped argument as `LEOFLOW_MAP_<NAME>`
 * (JSON, like LEOFLOW_XCOM_*) and all of them as one JSON object in `LEOFLOW_MAP` (a ts task's `ctx.map`).
 */
import { ConnectError, Code } from "@connectrpc/connect";
import {
  isMapped,
  loadMappedArgs,
  type DagRunRecord,
  type DagSpec,
  type TaskInstanceRecord,
  type TaskSpec,
  type XComPullPort,
} from "../domain";
import { xcomEnvName } from "../agent";

/** The env vars of a mapped task instance ({} for an unmapped task). */
export async function mappedEnv(
  store: XComPullPort,
  run: Pick<DagRunRecord, "team" | "dag_id" | "run_id">,
  spec: Pick<DagSpec, "tasks">,
  task: TaskSpec,
  ti: Pick<TaskInstanceRecord, "map_index">,
): Promise<Record<string, string>> {
  if (!isMapped(task)) return {};
  const values = await loadMappedArgs(store, run, spec, task, ti.map_index);
  if (!values)
    throw new ConnectError(
      `task ${task.task_id} map_index ${ti.map_index} has no mapped arguments: the list it was expanded over no longer has that index (was an upstream cleared and rerun?); clear the mapped task to expand it again`,
      Code.FailedPrecondition,
    );
  const env: Record<string, string> = { LEOFLOW_MAP_INDEX: String(ti.map_index), LEOFLOW_MAP: JSON.stringify(values) };
  for (const [name, v] of Object.entries(values)) env[`LEOFLOW_MAP_${xcomEnvName(name)}`] = JSON.stringify(v) ?? "null";
  return env;
}
