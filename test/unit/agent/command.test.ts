import { describe, expect, test } from "bun:test";
import { buildCommand, PYTHON_CALLABLE_WRAPPER, SENSOR_LOOP } from "../../../src/agent";
import { TASK_DEFAULTS, type TaskSpec } from "../../../src/domain";

const base = { ...TASK_DEFAULTS, upstream: [] };
const task = (t: Partial<TaskSpec> & Pick<TaskSpec, "operator">): TaskSpec => ({ ...base, task_id: "t1", ...t }) as TaskSpec;
const self = () => ["/usr/bin/leoflow"];

describe("buildCommand", () => {
  test.each<[string, TaskSpec, string[]]>([
    ["bash", task({ operator: "bash", bash_command: "echo hi && exit 3" }), ["bash", "-c", "echo hi && exit 3"]],
    ["python code", task({ operator: "python", python_code: "print(1)" }), ["python3", "-c", "print(1)"]],
    [
      "python callable",
      task({ operator: "python", python_callable: "etl.jobs:load" }),
      ["python3", "-c", PYTHON_CALLABLE_WRAPPER, "/dags/sub", "etl.jobs:load"],
    ],
    ["ts", task({ operator: "ts", task_id: "transform" }), ["/usr/bin/leoflow", "run-ts", "/dags/sub/etl.ts", "transform", "etl"]],
    ["container", task({ operator: "container", command: ["sh", "-c"], args: ["echo hi"] }), ["sh", "-c", "echo hi"]],
    ["container without args", task({ operator: "container", command: ["/bin/true"] }), ["/bin/true"]],
    [
      "bash sensor: the poke loop gets the check as an argument, whole seconds, defaults filled",
      task({
        operator: "sensor",
        sensor: { kind: "bash", bash_command: "test -f /x || exit 75" },
        poke_interval: 1.5,
        exponential_backoff: true,
      }),
      ["bash", "-c", SENSOR_LOOP, "leoflow-sensor", "test -f /x || exit 75", "2", "604800", "1", "0", "0"],
    ],
    [
      "bash sensor in mode reschedule: one check per try, no loop",
      task({ operator: "sensor", sensor: { kind: "bash", bash_command: "test -f /x || exit 75" }, mode: "reschedule" }),
      ["bash", "-c", "test -f /x || exit 75"],
    ],
    [
      "ts sensor: run-ts runs the check function (it loops or checks once by the mode)",
      task({ operator: "sensor", task_id: "wait", sensor: { kind: "ts" } }),
      ["/usr/bin/leoflow", "run-ts", "/dags/sub/etl.ts", "wait", "etl"],
    ],
  ])("%s", (_name, t, want) => {
    expect(buildCommand(t, { file: "/dags/sub/etl.ts", id: "etl" }, self)).toEqual(want);
  });

  test.each<[string, TaskSpec, RegExp]>([
    [
      "http runs inline",
      task({ operator: "http", http: { method: "GET", url: "http://x" } }),
      /task t1: http tasks run inline in the control plane/,
    ],
    ["bash without command", task({ operator: "bash" }), /task t1: a bash task needs bash_command/],
    ["empty", task({ operator: "empty" }), /task t1: an empty task runs nothing: the scheduler marks it success itself/],
    ["python without code", task({ operator: "python" }), /needs python_code or python_callable/],
    ["container without command", task({ operator: "container", image: "alpine" }), /needs command/],
    [
      "a control-plane sensor",
      task({ operator: "sensor", sensor: { kind: "file", path: "/x" } }),
      /task t1: a file sensor is checked by the control plane, not in an agent/,
    ],
  ])("%s → error", (_name, t, want) => {
    expect(() => buildCommand(t, { file: "/dags/etl.json", id: "etl" }, self)).toThrow(want);
  });

  test("ts without a DAG file says so", () => {
    expect(() => buildCommand(task({ operator: "ts" }), { file: "", id: "etl" }, self)).toThrow(/needs its DAG file/);
  });
});
