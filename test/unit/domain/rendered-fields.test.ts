/** Which fields rendered_fields shows of a task, and in what context a control-plane sensor's fields render. */
import { expect, test } from "bun:test";
import { renderedFields, type TemplateContext } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

const ctx: TemplateContext = {
  dag_id: "d",
  run_id: "r1",
  task_id: "t",
  try_number: 2,
  logical_date: new Date("2026-03-01T00:00:00Z"),
  params: { day: "x" },
  conf: {},
  xcom: {},
  var: {},
  map_index: 3,
};
const taskOf = (task: object) => parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", ...task }] }).tasks[0]!;

test("a container's command and args; a bash sensor's check renders with the whole context", () => {
  expect(
    renderedFields(
      taskOf({ operator: "container", image: "alpine", command: ["sh", "-c"], args: ["echo {{ map_index }} {{ try_number }}"] }),
      ctx,
      [],
    ),
  ).toEqual({ command: ["sh", "-c"], args: ["echo 3 2"] });
  expect(
    renderedFields(taskOf({ operator: "sensor", sensor: { kind: "bash", bash_command: "test -f /d/{{ params.day }}" } }), ctx, []),
  ).toEqual({ "sensor.bash_command": "test -f /d/x" });
});

test("a file or date_time sensor's field renders as its check does: the run's names and dates, no params", () => {
  const file = taskOf({ operator: "sensor", sensor: { kind: "file", path: "/data/{{ ds }}/{{ try_number }}.ok" } });
  expect(renderedFields(file, ctx, [])).toEqual({ "sensor.path": "/data/2026-03-01/1.ok" });
  // The check itself fails on a param (it sees none), so no value is shown for it.
  const byParam = taskOf({ operator: "sensor", sensor: { kind: "date_time", target_time: "{{ params.day }}" } });
  expect(renderedFields(byParam, ctx, [])).toEqual({});
});
