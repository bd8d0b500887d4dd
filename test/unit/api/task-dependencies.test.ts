import { describe, expect, test } from "bun:test";
import type { DagRunRecord, TaskInstanceRecord, TaskState } from "../../../src/domain";
import { taskDependencies } from "../../../src/api/task-dependencies";

const run = { dag_id: "etl", run_id: "r1", state: "running" } as DagRunRecord;
const ti = (state: TaskState, over: Partial<TaskInstanceRecord> = {}) =>
  ({ task_id: "load", state, wait_reason: null, note: null, ...over }) as TaskInstanceRecord;
const deps = (t: TaskInstanceRecord, states: Record<string, TaskState | TaskState[]>, r = run) =>
  taskDependencies({
    ti: t,
    run: r,
    dagPaused: false,
    upstream: ["a", "b"],
    triggerRule: "all_success",
    states: new Map(Object.entries(states).map(([id, s]) => [id, Array.isArray(s) ? s : [s]])),
  });

describe("taskDependencies", () => {
  test("unfinished upstream tasks are named under Trigger Rule", () => {
    expect(deps(ti("none"), { a: "success", b: "running" })).toEqual([
      { name: "Trigger Rule", reason: "Task's trigger rule 'all_success' requires its upstream tasks to finish; still waiting for: b." },
    ]);
  });

  test("a mapped upstream is named with its instances counted by state", () => {
    expect(deps(ti("none"), { a: ["success", "running", "success", "queued"], b: "success" }).map((d) => d.reason)).toEqual([
      "Task's trigger rule 'all_success' requires its upstream tasks to finish; still waiting for: a=[success×2, running×1, queued×1].",
    ]);
    expect(deps(ti("none"), { a: ["success", "failed", "success"], b: "success" }).map((d) => d.reason)).toEqual([
      "Task's trigger rule 'all_success' requires all upstream tasks to succeed; not succeeded: a=[success×2, failed×1].",
    ]);
  });

  test("a failed upstream blocks all_success", () => {
    expect(deps(ti("none"), { a: "failed", b: "success" }).map((d) => d.reason)).toEqual([
      "Task's trigger rule 'all_success' requires all upstream tasks to succeed; not succeeded: a.",
    ]);
  });

  test("a scheduler wait is named as Airflow names the dep, with the note as the reason", () => {
    const held = ti("scheduled", { wait_reason: "pool_full", note: "waiting for a slot in pool gpu (0 of 2 open)" });
    expect(deps(held, { a: "success", b: "skipped" })).toEqual([
      { name: "Pool Slots Available", reason: "waiting for a slot in pool gpu (0 of 2 open)" },
    ]);
  });

  test("retry period, and nothing for running or finished tasks", () => {
    expect(deps(ti("up_for_retry"), { a: "success", b: "success" }).map((d) => d.name)).toEqual(["Not In Retry Period"]);
    expect(deps(ti("running"), {})).toEqual([]);
    expect(deps(ti("success"), {})).toEqual([]);
  });
});
