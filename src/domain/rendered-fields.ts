/**
 * A task instance's rendered fields (Airflow's `rendered_fields`, its "Rendered Templates" view): every
 * templated field a task has, by the name docs/templates.md gives it (`bash_command`, `env`, `command`, `args`,
 * `http.url`, `http.headers`, `http.query`, `http.body`, `http.json`, `sensor.bash_command`, `sensor.path`,
 * `sensor.target_time`, `sensor.http.*`), rendered as the try renders it, with secrets masked as the logs
 * mask them. Pure: the caller loads the context (loadTemplateContext) and the secrets it read.
 *
 * @example renderedFields(bashTask, ctx, []) // { bash_command: "ls /data/2026-03-01", env: { DAY: "2026-03-01" } }
 */
import type { HttpRequestSpec, TaskSpec } from "./dag-spec";
import { MIN_MASKED_LENGTH } from "./env-from";
import { isSensitiveName, MASK } from "./secrets";
import { renderJson, renderString, TemplateError, type TemplateContext } from "./templates";

/** One templated field: its name and how it renders in a context. */
type Field = { name: string; render: (ctx: TemplateContext) => unknown; controlPlane?: true };

const text = (name: string, v: string): Field => ({ name, render: (ctx) => renderString(v, ctx, name) });
const list = (name: string, v: readonly string[]): Field => ({
  name,
  render: (ctx) => v.map((s, i) => renderString(s, ctx, `${name}[${i}]`)),
});
const values = (name: string, v: Readonly<Record<string, string | number | boolean>>): Field => ({
  name,
  render: (ctx) =>
    Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === "string" ? renderString(x, ctx, `${name}.${k}`) : x])),
});

/** An http request's templated fields, as buildHttpCall renders them (a json string that is one template keeps its type). */
function httpFields(prefix: string, http: HttpRequestSpec): Field[] {
  const out: Field[] = [text(`${prefix}.url`, http.url)];
  if (http.headers) out.push(values(`${prefix}.headers`, http.headers));
  if (http.query) out.push(values(`${prefix}.query`, http.query));
  if (http.body !== undefined) out.push(text(`${prefix}.body`, http.body));
  if (http.json !== undefined) out.push({ name: `${prefix}.json`, render: (ctx) => renderJson(http.json, ctx, `${prefix}.json`) });
  return out;
}

/** The templated fields of a task, in the order docs/templates.md lists them; a field the task leaves unset is absent. */
function templatedFields(task: TaskSpec): Field[] {
  const out: Field[] = [];
  if (task.bash_command !== undefined) out.push(text("bash_command", task.bash_command));
  if (task.command) out.push(list("command", task.command));
  if (task.args) out.push(list("args", task.args));
  if (task.env) out.push(values("env", task.env));
  if (task.http) out.push(...httpFields("http", task.http));
  const sensor = task.sensor;
  // A control-plane check renders with the run's names and dates only (executors' sensorTemplates).
  const checked = (f: Field): Field => ({ ...f, controlPlane: true });
  if (sensor?.kind === "bash") out.push(text("sensor.bash_command", sensor.bash_command));
  else if (sensor?.kind === "file") out.push(checked(text("sensor.path", sensor.path)));
  else if (sensor?.kind === "date_time") out.push(checked(text("sensor.target_time", sensor.target_time)));
  else if (sensor?.kind === "http") out.push(...httpFields("sensor.http", sensor.http).map(checked));
  return out;
}

/** What a control-plane sensor's templates see (as executors' sensorTemplates gives them): no params, conf, XComs or variables. */
const sensorContext = (ctx: TemplateContext): TemplateContext => ({
  dag_id: ctx.dag_id,
  run_id: ctx.run_id,
  task_id: ctx.task_id,
  logical_date: ctx.logical_date,
  try_number: 1,
  params: {},
  conf: {},
  xcom: {},
  var: {},
});

/** Every string a task's templated fields hold, for templateNeeds (what loadTemplateContext must load). */
export function renderedFieldTexts(task: TaskSpec): string[] {
  const texts: string[] = [];
  const scan = (v: unknown): void => {
    if (typeof v === "string") v.includes("{{") && texts.push(v);
    else if (Array.isArray(v)) v.forEach(scan);
    else if (v && typeof v === "object") Object.values(v).forEach(scan);
  };
  scan([task.bash_command, task.command, task.args, task.env, task.http, task.sensor]);
  return texts;
}

/**
 * The task's templated fields rendered in `ctx`, with every value of `secrets` (and its URL-encoded form) and the
 * values under sensitive names (`API_KEY`, an `Authorization` header) shown as `***`, as Airflow's masker shows
 * them. A field that cannot be rendered is left out: the try that met it failed, and its note says why.
 */
export function renderedFields(task: TaskSpec, ctx: TemplateContext, secrets: readonly string[]): Record<string, unknown> {
  const masks = [...new Set(secrets.flatMap((s) => [s, encodeURIComponent(s)]))]
    .filter((s) => s.length >= MIN_MASKED_LENGTH)
    .sort((a, b) => b.length - a.length);
  const out: Record<string, unknown> = {};
  const sensorCtx = sensorContext(ctx);
  for (const f of templatedFields(task)) {
    try {
      out[f.name] = masked(f.render(f.controlPlane ? sensorCtx : ctx), masks);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
    }
  }
  return out;
}

function masked(v: unknown, masks: readonly string[]): unknown {
  if (typeof v === "string") return masks.reduce((s, m) => (s.includes(m) ? s.replaceAll(m, MASK) : s), v);
  if (Array.isArray(v)) return v.map((x) => masked(x, masks));
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isSensitiveName(k) ? MASK : masked(x, masks)]));
  return v;
}
