/**
 * Fields of the fixed objects (dag, task, ti, dag_run) are known when a DAG is loaded, so naming another one is an
 * import error, as an unknown name is; and Jinja's whitespace control (`{{-`, `-}}`) trims as in Airflow.
 */
import { describe, expect, test } from "bun:test";
import { renderJson, renderString, type TemplateContext } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

const ctx: TemplateContext = {
  dag_id: "etl",
  run_id: "manual__1",
  task_id: "load",
  try_number: 2,
  logical_date: new Date("2026-03-01T06:30:00Z"),
  params: { limit: 10 },
  conf: { user: { name: "ada" } },
  xcom: {},
  var: {},
};

const load = (bash_command: string) => () => parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", operator: "bash", bash_command }] });

describe("an unknown field of a fixed object is an import error", () => {
  test.each([
    ["{{ dag_run.run_type }}", 'dag_run has no field "run_type" (fields: run_id, dag_id, conf, logical_date)'],
    ["{{ dag_run.logical_date.year }}", 'dag_run has no field "logical_date.year" (fields: run_id, dag_id, conf, logical_date)'],
    ["{{ dag_run }}", "name a field of dag_run: run_id, dag_id, conf, logical_date"],
    ["{{ ti.state }}", 'ti has no field "state" (fields: dag_id, run_id, task_id, try_number, map_index)'],
    ["{{ task.owner }}", 'task has no field "owner" (fields: task_id)'],
    ["{{ dag.fileloc | upper }}", 'dag has no field "fileloc" (fields: dag_id)'],
  ])("%s", (template, why) => {
    expect(load(`echo ${template}`)).toThrow(`tasks[0].bash_command: task "t": template ${template} in bash_command: ${why}`);
  });

  test("the fields that exist still load and render", () => {
    const text =
      "{{ dag_run.run_id }} {{ dag_run.dag_id }} {{ dag_run.conf.user.name }} {{ dag_run.logical_date }} {{ ti.map_index }} {{ ti.try_number }} {{ task.task_id }} {{ dag.dag_id }}";
    expect(load(text)).not.toThrow();
    expect(renderString(text, ctx, "bash_command")).toBe("manual__1 etl ada 2026-03-01T06:30:00.000Z -1 2 load etl");
  });
});

describe("Jinja's whitespace control", () => {
  test("{{- trims the whitespace before, -}} the whitespace after, newlines included", () => {
    expect(renderString("echo  \n  {{- ds -}}  \n  done", ctx, "bash_command")).toBe("echo2026-03-01done");
    expect(renderString("a {{- run_id }} b {{ ds -}} c", ctx, "bash_command")).toBe("amanual__1 b 2026-03-01c");
    expect(renderString("{{-ds-}}", ctx, "bash_command")).toBe("2026-03-01");
    // A negative number is not a marker when a space stands between.
    expect(renderString("{{ -1 }}", ctx, "bash_command")).toBe("-1");
    expect(load("echo {{- ds -}}")).not.toThrow();
  });

  test("a whole-value template with markers keeps its JSON type", () => {
    expect(renderJson({ user: " {{- dag_run.conf.user -}} " }, ctx, "http.json")).toEqual({ user: { name: "ada" } });
  });

  test("an error quotes the template as written, markers included", () => {
    expect(load("echo {{- nope -}}")).toThrow(
      'tasks[0].bash_command: task "t": template {{- nope -}} in bash_command: unknown name "nope"',
    );
    expect(() => renderString("{{- params.nope }}", ctx, "env.X")).toThrow(
      'template {{- params.nope }} in env.X: no param "nope" (known: limit)',
    );
  });
});
