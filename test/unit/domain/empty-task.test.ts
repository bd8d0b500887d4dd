/** Empty tasks as a DAG author writes them: in dag.json and with the SDK, and what is refused on them. */
import { expect, test } from "bun:test";
import { ValidationError } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { dag } from "../../../src/sdk";

test("an empty task needs nothing but its id; default_args' command fields are simply not its own", () => {
  const spec = parseDagSpec({
    dag_id: "markers",
    default_args: { bash_command: "echo from defaults", retries: 2 },
    tasks: [
      { task_id: "start", operator: "empty" },
      { task_id: "work", operator: "bash", upstream: ["start"] },
      { task_id: "done", operator: "empty", upstream: ["work"], trigger_rule: "all_done" },
    ],
  });
  expect(spec.tasks.map((t) => [t.task_id, t.operator, t.trigger_rule])).toEqual([
    ["start", "empty", "all_success"],
    ["work", "bash", "all_success"],
    ["done", "empty", "all_done"],
  ]);
});

test("a command, request or check set on an empty task is refused, naming the field and the fix", () => {
  const parse = () =>
    parseDagSpec({
      dag_id: "markers",
      tasks: [
        { task_id: "start", operator: "empty", bash_command: "echo hi" },
        { task_id: "ping", operator: "empty", http: { url: "http://example.test" } },
      ],
    });
  expect(parse).toThrow(ValidationError);
  try {
    parse();
  } catch (e) {
    const issues = (e as ValidationError).issues;
    expect(issues.map((i) => i.path)).toEqual(["tasks[0].bash_command", "tasks[1].http"]);
    expect(issues[0]!.message).toBe(
      'task "start" is an empty task: it runs nothing (the scheduler marks it success once its trigger rule is met), so bash_command would never be used; remove bash_command, or give the task the operator that runs it',
    );
  }
});

test("the SDK's empty() declares an operator-only task", () => {
  const d = dag({ dag_id: "sdk_markers" }, ({ empty, bash }) => {
    const start = empty({ task_id: "start" });
    const work = bash({ task_id: "work", upstream: [start], bash_command: "true" });
    empty({ task_id: "done", upstream: [work] });
  });
  expect(d.spec.tasks).toEqual([
    { task_id: "start", operator: "empty", upstream: [] },
    { task_id: "work", operator: "bash", upstream: ["start"], bash_command: "true" },
    { task_id: "done", operator: "empty", upstream: ["work"] },
  ]);
});
