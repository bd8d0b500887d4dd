/**
 * Loads what an inline task's templates reference — upstream XComs, variables, the connection — so that
 * rendering the request (inline-request.ts, templating.ts) stays pure.
 */
import type { ConnectionRecord, DagRunRecord, DagSpec, TaskInstanceRecord, TaskSpec, VariableRecord, XComKey, XComRecord } from "../domain";
import { candidateKeys, templateParams, templateRefs, type TemplateContext } from "./templating";

/** The reads an inline task's templates need; variables and connections are those of the task's team. */
export interface TemplateSourcePort {
  getXCom(key: XComKey): Promise<XComRecord | null>;
  getVariable(team: string, key: string): Promise<VariableRecord | null>;
  getConnection(team: string, connectionId: string): Promise<ConnectionRecord | null>;
}

/** Each spec's task ids, built once per spec: a fan-out of 1,000 tasks would otherwise build 1,000 sets of 1,000. */
const taskIdSets = new WeakMap<DagSpec, ReadonlySet<string>>();
function taskIdsOf(spec: DagSpec): ReadonlySet<string> {
  let ids = taskIdSets.get(spec);
  if (!ids) taskIdSets.set(spec, (ids = new Set(spec.tasks.map((t) => t.task_id))));
  return ids;
}

/** The template context of `ti`: upstream return_values and variables it references (dotted names, longest first). */
export async function loadTemplateContext(
  port: TemplateSourcePort,
  ti: TaskInstanceRecord,
  run: DagRunRecord,
  spec: DagSpec,
  task: TaskSpec,
): Promise<TemplateContext> {
  // The pinned spec the scheduler planned with; re-reading it per task cost a full spec parse each time.
  const taskIds = taskIdsOf(spec);
  const xcom: Record<string, unknown> = {};
  const vars: Record<string, string> = {};
  for (const ref of templateRefs(task.http!)) {
    if (ref.ns === "xcom") {
      const id = candidateKeys(ref.path).find((c) => taskIds.has(c.key))?.key;
      if (id && !Object.hasOwn(xcom, id)) {
        const x = await port.getXCom({ team: run.team, dag_id: run.dag_id, run_id: run.run_id, task_id: id, key: "return_value" });
        if (x) xcom[id] = x.value;
      }
    } else if (ref.ns === "var") {
      for (const c of candidateKeys(ref.path)) {
        if (Object.hasOwn(vars, c.key)) break;
        const v = await port.getVariable(run.team, c.key);
        if (v) {
          vars[c.key] = v.value;
          break;
        }
      }
    }
  }
  return {
    dag_id: run.dag_id,
    run_id: run.run_id,
    task_id: ti.task_id,
    try_number: ti.try_number,
    logical_date: run.logical_date,
    params: templateParams(spec?.params ?? {}, run.conf ?? {}),
    conf: run.conf ?? {},
    xcom,
    var: vars,
  };
}

/** The task's connection (of the task's team), when it names one (a missing one is reported by buildHttpCall). */
export function loadConnection(port: TemplateSourcePort, ti: TaskInstanceRecord, task: TaskSpec): Promise<ConnectionRecord | null> {
  const id = task.http?.connection_id;
  return id ? port.getConnection(ti.team, id) : Promise.resolve(null);
}
