/**
 * Which fields of an agent-run task are templates (Airflow templates bash_command, env and a pod's
 * cmds/arguments): `bash_command`, the values of `env`, `command`/`args`, and a bash sensor's check
 * (`sensor.bash_command`, as Airflow's BashSensor templates it). Python code is not: it is
 * code, where `{{` is ordinary syntax (f-strings, dict literals). Pure; GetTaskSpec renders them so a
 * subprocess, a container and a pod all receive the rendered text.
 */
import type { TaskSpec } from "./dag-spec";
import { renderString, templateSyntaxProblems, type TemplateContext } from "./templates";

/** The templated strings of a task, for templateNeeds. */
export function taskTemplateTexts(task: TaskSpec): string[] {
  return [
    task.bash_command ?? "",
    sensorCommand(task) ?? "",
    ...Object.values(task.env ?? {}),
    ...(task.command ?? []),
    ...(task.args ?? []),
  ].filter((s) => s.includes("{{"));
}

/** A bash sensor's check command, the one sensor field an agent runs. */
const sensorCommand = (task: TaskSpec): string | undefined => (task.sensor?.kind === "bash" ? task.sensor.bash_command : undefined);

/**
 * The task with its templated fields rendered. Throws TemplateError naming the field (`bash_command`,
 * `env.NAME`, `command[0]`) on the first template that cannot be rendered.
 */
export function renderTaskFields(task: TaskSpec, ctx: TemplateContext): TaskSpec {
  const out: TaskSpec = { ...task };
  if (task.bash_command) out.bash_command = renderString(task.bash_command, ctx, "bash_command");
  if (task.sensor?.kind === "bash")
    out.sensor = { ...task.sensor, bash_command: renderString(task.sensor.bash_command, ctx, "sensor.bash_command") };
  if (task.env) out.env = Object.fromEntries(Object.entries(task.env).map(([k, v]) => [k, renderString(v, ctx, `env.${k}`)]));
  if (task.command) out.command = task.command.map((s, i) => renderString(s, ctx, `command[${i}]`));
  if (task.args) out.args = task.args.map((s, i) => renderString(s, ctx, `args[${i}]`));
  return out;
}

/**
 * The problems no value can fix in every templated field of a task (its http request's too), by field path,
 * so a DAG with `{{ .Names }}` or `{{ ds | shout }}` is an import error rather than a failed try.
 */
export function taskTemplateProblems(task: TaskSpec): { path: string; message: string }[] {
  const fields: [string, unknown][] = [
    ["bash_command", task.bash_command],
    ["sensor.bash_command", sensorCommand(task)],
    ["sensor.path", task.sensor?.kind === "file" ? task.sensor.path : undefined],
    ["sensor.target_time", task.sensor?.kind === "date_time" ? task.sensor.target_time : undefined],
    ...Object.entries(task.env ?? {}).map(([k, v]): [string, unknown] => [`env.${k}`, v]),
    ...(task.command ?? []).map((v, i): [string, unknown] => [`command[${i}]`, v]),
    ...(task.args ?? []).map((v, i): [string, unknown] => [`args[${i}]`, v]),
  ];
  const http = task.http;
  if (http) {
    fields.push(["http.url", http.url], ["http.body", http.body]);
    for (const [k, v] of Object.entries(http.headers ?? {})) fields.push([`http.headers.${k}`, v]);
    for (const [k, v] of Object.entries(http.query ?? {})) fields.push([`http.query.${k}`, v]);
    const walk = (v: unknown, at: string): void => {
      if (typeof v === "string") fields.push([at, v]);
      else if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, `${at}[${i}]`);
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
    };
    walk(http.json, "http.json");
  }
  return fields.flatMap(([path, v]) =>
    typeof v === "string" ? templateSyntaxProblems(v, path).map((message) => ({ path, message })) : [],
  );
}
