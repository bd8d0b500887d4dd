/** A mapped instance's arguments in templates: `{{ map.NAME }}`, `{{ map_index }}`, `{{ ti.map_index }}`, and how they are loaded. */
import { describe, expect, test } from "bun:test";
import {
  loadTemplateContext,
  renderJson,
  renderString,
  renderTaskFields,
  TemplateError,
  templateSyntaxProblems,
  type DagRunRecord,
  type TaskInstanceRecord,
  type TemplateContext,
  type TemplateSourcePort,
  type XComKey,
  type XComRecord,
} from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

const base: TemplateContext = {
  dag_id: "d",
  run_id: "r",
  task_id: "load",
  try_number: 1,
  logical_date: null,
  params: {},
  conf: {},
  xcom: {},
  var: {},
};
const mapped: TemplateContext = { ...base, map_index: 2, map: { file: "c.csv", row: { id: 7, tags: ["x", "y"] } } };

describe("rendering a mapped instance's arguments", () => {
  test.each<[string, TemplateContext, string, string]>([
    ["an argument", mapped, "wc -l /in/{{ map.file }}", "wc -l /in/c.csv"],
    ["a path into an argument", mapped, "{{ map.row.id }}-{{ map.row.tags.1 }}", "7-y"],
    ["an object argument, as JSON", mapped, "{{ map.row }}", '{"id":7,"tags":["x","y"]}'],
    ["the index, and Airflow's ti.map_index", mapped, "{{ map_index }}/{{ ti.map_index }}", "2/2"],
    ["an unmapped task's index: -1, as Airflow's", base, "{{ map_index }}", "-1"],
    ["a missing argument with a default", mapped, "{{ map.nope | default('none') }}", "none"],
  ])("%s", (_, ctx, text, out) => {
    expect(renderString(text, ctx, "bash_command")).toBe(out);
  });

  test("a whole-template json value keeps its type", () => {
    expect(renderJson({ id: "{{ map.row.id }}", i: "{{ map_index }}" }, mapped, "http.json")).toEqual({ id: 7, i: 2 });
  });

  test.each<[string, TemplateContext, string, string]>([
    [
      "an unknown argument",
      mapped,
      "{{ map.nope }}",
      'template {{ map.nope }} in http.url: no mapped argument "nope" (arguments: file, row)',
    ],
    [
      "map in a task that is not mapped",
      base,
      "{{ map.file }}",
      "template {{ map.file }} in http.url: task load is not mapped, so it has no map arguments; give it expand or expand_kwargs (docs/mapping.md)",
    ],
    [
      "an index its list no longer has",
      { ...base, map_index: 5, map: null },
      "{{ map.file }}",
      "template {{ map.file }} in http.url: map_index 5 of task load has no mapped arguments: the list it was expanded over no longer has that index (was an upstream cleared and rerun?); clear the mapped task to expand it again",
    ],
  ])("fails naming the problem: %s", (_, ctx, text, message) => {
    expect(() => renderString(text, ctx, "http.url")).toThrow(new TemplateError(message));
  });

  test("map and map_index are known names when a DAG is loaded", () => {
    expect(templateSyntaxProblems("{{ map.file }} {{ map_index }} {{ ti.map_index }}", "bash_command")).toEqual([]);
  });

  test("a mapped http task is accepted by the parser", () => {
    const spec = parseDagSpec({
      dag_id: "m",
      tasks: [{ task_id: "call", operator: "http", expand: { id: [1, 2] }, http: { url: "http://h/{{ map.id }}" } }],
    });
    expect(spec.tasks[0]!.expand).toEqual({ id: [1, 2] });
  });
});

describe("loadTemplateContext of a mapped instance", () => {
  const spec = parseDagSpec({
    dag_id: "d",
    tasks: [
      { task_id: "make", operator: "bash", bash_command: "true" },
      { task_id: "load", operator: "bash", expand: { file: { xcom: "make" } }, bash_command: "wc -l {{ map.file }} # {{ map_index }}" },
      { task_id: "sum", operator: "bash", upstream: ["load"], bash_command: "echo {{ xcom.load }}" },
    ],
  });
  const run = { team: "default", dag_id: "d", run_id: "r", logical_date: null, conf: {} } as unknown as DagRunRecord;
  const ti = (task_id: string, map_index: number) => ({ task_id, map_index, try_number: 1, team: "default" }) as TaskInstanceRecord;
  /** In memory: `make` returned a list of files, `load`'s instances returned 10 and 20. */
  const port = (files: unknown): TemplateSourcePort => ({
    getXCom: async (k: XComKey) => (k.task_id === "make" ? ({ value: files } as XComRecord) : null),
    listMappedXComs: async (k) => (k.task_id === "load" ? [{ value: 10 }, { value: 20 }].map((x) => x as XComRecord) : []),
    getVariable: async () => null,
    getConnection: async () => null,
  });
  const task = (id: string) => spec.tasks.find((t) => t.task_id === id)!;

  test("the instance's bash_command renders with its own argument and index", async () => {
    const { ctx } = await loadTemplateContext(port(["a.csv", "b.csv"]), ti("load", 1), run, spec, [task("load").bash_command!]);
    expect(renderTaskFields(task("load"), ctx).bash_command).toBe("wc -l b.csv # 1");
  });

  test("a downstream reads a mapped upstream as the list in map_index order (the reduce)", async () => {
    const { ctx } = await loadTemplateContext(port(["a.csv", "b.csv"]), ti("sum", -1), run, spec, [task("sum").bash_command!]);
    expect(renderTaskFields(task("sum"), ctx).bash_command).toBe("echo [10,20]");
  });

  test("an index the upstream's list no longer has renders as a failure naming it", async () => {
    const { ctx } = await loadTemplateContext(port(["a.csv"]), ti("load", 1), run, spec, [task("load").bash_command!]);
    expect(() => renderTaskFields(task("load"), ctx)).toThrow(/map_index 1 of task load has no mapped arguments/);
  });
});
