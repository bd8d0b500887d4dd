/**
 * Loads what templates reference (`templateNeeds`) through the store port the caller passes, builds a task's
 * template context, and says which loaded values are secrets, so whoever shows the rendered text masks them.
 * No I/O of its own: the GetTaskSpec handler, the inline http runner and callbacks share it.
 */
import { connectionSecrets, connectionUri, variableSecrets, type TaskConnection } from "./env-from";
import type { DagSpec } from "./dag-spec";
import { isMapped } from "./mapping";
import { loadMappedArgs, pullXCom, type XComPullPort } from "./mapped-pull";
import type { ConnectionRecord, DagRunRecord, TaskInstanceRecord, VariableRecord } from "./records";
import { templateNeeds, templateParams, type TemplateContext, type TemplateNeeds } from "./templates";
import { taskOfSpec } from "./task-lookup";

export interface TemplateLookups {
  /** `secret`: stored encrypted (masked even when its key does not look secret). */
  variable(key: string): Promise<{ value: string; secret: boolean } | null>;
  connection(connId: string): Promise<TaskConnection | null>;
  xcom(taskId: string, key: string): Promise<{ value: unknown } | null>;
}

export interface TemplateValues extends Pick<TemplateContext, "xcom" | "xcom_keys" | "var" | "conn"> {
  /** Values to mask wherever the rendered text is shown: secret variables, connection passwords and secret extras. */
  secrets: string[];
}

/**
 * Loads each need once, trying its names longest first; an XCom only of a task the DAG has (`taskIds`).
 * What is not found is left out: rendering then fails naming it.
 */
export async function loadTemplateValues(
  needs: TemplateNeeds,
  lookups: TemplateLookups,
  taskIds: ReadonlySet<string>,
): Promise<TemplateValues> {
  const out: TemplateValues = { xcom: {}, xcom_keys: {}, var: {}, conn: {}, secrets: [] };
  const secrets = new Set<string>();
  for (const candidates of needs.vars)
    for (const key of candidates) {
      if (Object.hasOwn(out.var, key)) break;
      const v = await lookups.variable(key);
      if (!v) continue;
      out.var[key] = v.value;
      for (const s of variableSecrets(key, v.value, "", v.secret)) secrets.add(s);
      break;
    }
  for (const candidates of needs.conns)
    for (const id of candidates) {
      if (Object.hasOwn(out.conn!, id)) break;
      const c = await lookups.connection(id);
      if (!c) continue;
      out.conn![id] = c;
      for (const s of connectionSecrets(c)) secrets.add(s);
      break;
    }
  for (const need of needs.xcoms) {
    const taskId = need.taskIds.find((id) => taskIds.has(id));
    if (!taskId) continue;
    const returnValue = need.key === "return_value";
    if (returnValue ? Object.hasOwn(out.xcom, taskId) : Object.hasOwn(out.xcom_keys![taskId] ?? {}, need.key)) continue;
    const x = await lookups.xcom(taskId, need.key);
    if (!x) continue;
    if (returnValue) out.xcom[taskId] = x.value;
    else (out.xcom_keys![taskId] ??= {})[need.key] = x.value;
  }
  out.secrets = [...secrets];
  return out;
}

/** A stored connection as templates (and tasks) see it: the fields and Airflow's URI. */
export function taskConnectionOf(c: Omit<ConnectionRecord, "description">): TaskConnection {
  const fields = {
    conn_type: c.conn_type,
    host: c.host,
    port: c.port,
    login: c.login,
    password: c.password,
    schema: c.schema,
    extra: c.extra,
  };
  return { conn_id: c.connection_id, ...fields, uri: connectionUri(fields) };
}

/** The reads a task's templates need (the store); variables and connections are those of the task's team. */
export interface TemplateSourcePort extends XComPullPort {
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

/** The template context of a task whose templated strings are `texts`, with what they reference loaded (and its secrets). */
export async function loadTemplateContext(
  port: TemplateSourcePort,
  ti: TaskInstanceRecord,
  run: DagRunRecord,
  spec: DagSpec,
  texts: string[],
): Promise<{ ctx: TemplateContext; secrets: string[] }> {
  const team = run.team;
  const needs = templateNeeds(texts);
  const { secrets, ...values } = await loadTemplateValues(
    needs,
    {
      variable: async (key) => {
        const v = await port.getVariable(team, key);
        return v && { value: v.value, secret: v.is_encrypted === true };
      },
      connection: async (id) => {
        const c = await port.getConnection(team, id);
        return c && taskConnectionOf(c);
      },
      // A mapped upstream's values are one list in map_index order, as its downstream's XCom inputs are.
      xcom: async (taskId, key) => {
        const value = await pullXCom(port, run, spec, { xcom: taskId, key });
        return value === undefined ? null : { value };
      },
    },
    taskIdsOf(spec),
  );
  // A mapped instance's arguments ({{ map.NAME }}), read only when a template asks: null when its list lost that index.
  const task = taskOfSpec(spec, ti.task_id);
  const map = needs.map && task && isMapped(task) ? await loadMappedArgs(port, run, spec, task, ti.map_index) : undefined;
  const ctx: TemplateContext = {
    dag_id: run.dag_id,
    run_id: run.run_id,
    task_id: ti.task_id,
    try_number: ti.try_number,
    logical_date: run.logical_date,
    data_interval_start: run.data_interval_start,
    data_interval_end: run.data_interval_end,
    params: templateParams(spec?.params ?? {}, run.conf ?? {}),
    conf: run.conf ?? {},
    map_index: ti.map_index,
    ...(map !== undefined && { map }),
    ...values,
  };
  return { ctx, secrets };
}
