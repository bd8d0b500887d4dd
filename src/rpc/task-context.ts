/**
 * Pure pieces of GetTaskSpec: which XComs a task receives and which LEOFLOW_* variables describe its run.
 * Kept free of I/O so the naming and precedence rules are tested with tables.
 */
import type { DagSpec, TaskSpec, DagRunRecord, TaskInstanceRecord } from "../domain";
import { xcomEnvName } from "../agent";

export interface XComInputRef {
  /** Env var suffix (already normalised), e.g. "EXTRACT". */
  name: string;
  taskId: string;
  key: string;
}

/**
 * Each direct upstream's `return_value` under its normalised task_id, then `task.inputs`
 * (`{ NAME: "task_id" | "task_id:key" }`), which win on a name clash because the author asked for them.
 */
export function xcomInputRefs(task: Pick<TaskSpec, "upstream" | "inputs">): XComInputRef[] {
  const byName = new Map<string, XComInputRef>();
  for (const up of task.upstream) byName.set(xcomEnvName(up), { name: xcomEnvName(up), taskId: up, key: "return_value" });
  for (const [name, ref] of Object.entries(task.inputs ?? {})) {
    const colon = ref.indexOf(":");
    const taskId = colon < 0 ? ref : ref.slice(0, colon);
    const key = colon < 0 ? "return_value" : ref.slice(colon + 1) || "return_value";
    byName.set(xcomEnvName(name), { name: xcomEnvName(name), taskId, key });
  }
  return [...byName.values()];
}

/** The DAG's params defaults (null when a param has no default) overlaid with the run's conf, as Airflow does. */
export function effectiveParams(spec: Pick<DagSpec, "params">, conf: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(spec.params ?? {})) params[name] = p.default ?? null;
  return { ...params, ...conf };
}

/** task.env plus the run context; the LEOFLOW_* context wins so a task cannot lie about who it is. */
export function taskEnv(input: {
  task: TaskSpec;
  run: Pick<DagRunRecord, "dag_id" | "run_id" | "logical_date" | "conf">;
  ti: Pick<TaskInstanceRecord, "try_number">;
  params: Record<string, unknown>;
}): Record<string, string> {
  const { task, run, ti, params } = input;
  return {
    ...(task.env ?? {}),
    LEOFLOW_DAG_ID: run.dag_id,
    LEOFLOW_RUN_ID: run.run_id,
    LEOFLOW_TASK_ID: task.task_id,
    LEOFLOW_TRY_NUMBER: String(ti.try_number),
    LEOFLOW_LOGICAL_DATE: run.logical_date ? run.logical_date.toISOString() : "",
    LEOFLOW_CONF: JSON.stringify(run.conf ?? {}),
    LEOFLOW_PARAMS: JSON.stringify(params),
  };
}
