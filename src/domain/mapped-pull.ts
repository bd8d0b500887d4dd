/**
 * Pulling an upstream's XCom as a downstream sees it: an unmapped task's value, or for a mapped task the list
 * of its instances' values in map_index order (Airflow's "reduce"); and a mapped instance's own arguments.
 * No I/O of its own (the caller passes the port): the scheduler (expanding over an upstream), the agent RPC
 * (a task's XCom inputs and mapped env) and templates (GetTaskSpec and the inline http runner) share it.
 */
import type { DagSpec, TaskSpec } from "./dag-spec";
import { isMapped, mappedValues, mappingRefs, sourceKey, type XComRef } from "./mapping";
import { taskOfSpec } from "./task-lookup";
import type { DagRunRecord, XComKey, XComRecord } from "./records";

export interface XComPullPort {
  getXCom(key: XComKey): Promise<XComRecord | null>;
  /** The XComs `key` of every instance of a mapped task (map_index >= 0), in map_index order. */
  listMappedXComs(key: Omit<XComKey, "map_index">): Promise<XComRecord[]>;
}
type RunKey = Pick<DagRunRecord, "team" | "dag_id" | "run_id">;

/** The XCom `ref` names, or undefined when the (unmapped) upstream pushed none. */
export async function pullXCom(port: XComPullPort, run: RunKey, spec: Pick<DagSpec, "tasks">, ref: XComRef): Promise<unknown> {
  const key = { team: run.team, dag_id: run.dag_id, run_id: run.run_id, task_id: ref.xcom, key: ref.key ?? "return_value" };
  const upstream = taskOfSpec(spec, ref.xcom);
  if (upstream && isMapped(upstream)) return (await port.listMappedXComs(key)).map((x) => x.value);
  return (await port.getXCom(key))?.value;
}

/** The XComs a mapped task's mapping reads, by sourceKey (what expandTask and mappedValues take). */
export async function loadMappingSources(
  port: XComPullPort,
  run: RunKey,
  spec: Pick<DagSpec, "tasks">,
  refs: readonly XComRef[],
): Promise<Map<string, unknown>> {
  const values = await Promise.all(refs.map((r) => pullXCom(port, run, spec, r)));
  const sources = new Map<string, unknown>();
  refs.forEach((r, i) => {
    if (values[i] !== undefined) sources.set(sourceKey(r), values[i]);
  });
  return sources;
}

/**
 * The arguments of a mapped task's instance `mapIndex`; null when the list it was expanded over no longer has
 * that index (an upstream was cleared and returned fewer items).
 */
export async function loadMappedArgs(
  port: XComPullPort,
  run: RunKey,
  spec: Pick<DagSpec, "tasks">,
  task: TaskSpec,
  mapIndex: number,
): Promise<Record<string, unknown> | null> {
  return mappedValues(task, await loadMappingSources(port, run, spec, mappingRefs(task)), mapIndex);
}
