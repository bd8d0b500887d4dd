/**
 * The planner with mapped tasks: a mapped task at map_index -1 is handed to the expansion (not scheduled) once
 * its upstreams are done; expanded instances are scheduled together; a downstream counts every instance by
 * its trigger rule; a run waiting on an expansion is not a deadlock.
 */
import { describe, expect, test } from "bun:test";
import type { TaskInstanceRecord, TaskState } from "../../../src/domain";
import { planRun } from "../../../src/scheduler/planner";
import { planTaskMark } from "../../../src/scheduler/mark";
import { dag, run, T0, tis } from "./helpers";

const spec = dag([
  { task_id: "make" },
  { task_id: "each", expand: { x: { xcom: "make" } } },
  { task_id: "total", upstream: ["each"] },
  { task_id: "any", upstream: ["each"], trigger_rule: "one_failed" },
]);

/** `each` expanded into instances in the given states (ids 10, 11, …), the other tasks as given. */
function expanded(eachStates: TaskState[], others: Record<string, TaskState>): TaskInstanceRecord[] {
  const base = tis(spec, others);
  const template = base.find((t) => t.task_id === "each")!;
  const instances = eachStates.map((state, i) => ({ ...template, id: 10 + i, map_index: i, state }));
  return [...base.filter((t) => t.task_id !== "each"), ...instances];
}

const moved = (plan: ReturnType<typeof planRun>, rows: TaskInstanceRecord[]) =>
  plan.transitions.map((t) => {
    const ti = rows.find((r) => r.id === t.id)!;
    return `${ti.task_id}${ti.map_index < 0 ? "" : `[${ti.map_index}]`}→${t.to}`;
  });

describe("planRun with mapped tasks", () => {
  test("a mapped task waits at -1 for its upstream, then goes to the expansion, not to scheduled", () => {
    const waiting = tis(spec, { make: "running" });
    expect(planRun({ run: run(), tis: waiting, spec }, T0).expansions).toBeUndefined();
    const ready = tis(spec, { make: "success" });
    const plan = planRun({ run: run(), tis: ready, spec }, T0);
    expect(plan.expansions?.map((t) => [t.task_id, t.map_index])).toEqual([["each", -1]]);
    expect(moved(plan, ready)).toEqual([]);
    expect(plan.run).toBeNull(); // waiting for the expansion is no deadlock
  });

  test("an unmapped task at -1 with the same rule is scheduled as before", () => {
    const plain = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }]);
    const rows = tis(plain, { a: "success" });
    expect(planRun({ run: run(), tis: rows, spec: plain }, T0).transitions.map((t) => t.to)).toEqual(["scheduled"]);
  });

  test("every expanded instance is scheduled in map_index order", () => {
    const rows = expanded(["none", "none", "none"], { make: "success" });
    expect(moved(planRun({ run: run(), tis: rows, spec }, T0), rows)).toEqual([
      "each[0]→scheduled",
      "each[1]→scheduled",
      "each[2]→scheduled",
    ]);
  });

  test.each<[string, TaskState[], string[], string | null]>([
    ["downstream waits while one instance runs", ["success", "running", "success"], [], null],
    ["all succeeded: the downstream is scheduled, one_failed is skipped", ["success", "success"], ["any→skipped", "total→scheduled"], null],
    [
      "one failed: all_success gives upstream_failed, one_failed is scheduled",
      ["success", "failed", "success"],
      ["any→scheduled", "total→upstream_failed"],
      "trigger rule all_success: each=[success×2, failed×1]",
    ],
  ])("%s", (_, eachStates, expected, note) => {
    const rows = expanded(eachStates, { make: "success" });
    const plan = planRun({ run: run(), tis: rows, spec }, T0);
    expect(moved(plan, rows)).toEqual(expected);
    if (note) expect(plan.transitions.find((t) => t.to === "upstream_failed")?.patch?.note).toBe(note);
  });

  test("a skipped upstream skips the unexpanded mapped task by its rule, with no expansion", () => {
    const rows = tis(spec, { make: "skipped" });
    const plan = planRun({ run: run(), tis: rows, spec }, T0);
    expect(plan.expansions).toBeUndefined();
    expect(moved(plan, rows)).toEqual(["each→skipped", "any→skipped", "total→skipped"]);
  });

  test("marking one instance of a mapped task marks that instance only, not its siblings", () => {
    const rows = expanded(["success", "success", "success"], { make: "success" });
    const change = planTaskMark({ run: run(), tis: rows, spec }, "each", "failed", T0, { mapIndex: 1 });
    expect(moved({ transitions: change.transitions ?? [] } as ReturnType<typeof planRun>, rows)).toEqual(["each[1]→failed"]);
    expect(() => planTaskMark({ run: run(), tis: rows, spec }, "each", "failed", T0)).toThrow(
      "task each has no task instance with map_index -1 in run manual__1",
    );
  });

  test("instances a re-expansion removed do not count for a downstream: all_success runs on the live ones", () => {
    const rows = expanded(["success", "success", "removed", "removed"], { make: "success" });
    expect(moved(planRun({ run: run(), tis: rows, spec }, T0), rows)).toEqual(["any→skipped", "total→scheduled"]);
  });

  test("a mapped task cleared whole (instance 0 back at -1, the others removed) goes to the expansion again", () => {
    const rows = expanded(["none", "removed", "removed"], { make: "success" }).map((t) => (t.id === 10 ? { ...t, map_index: -1 } : t));
    const plan = planRun({ run: run(), tis: rows, spec }, T0);
    expect(plan.expansions?.map((t) => [t.task_id, t.map_index])).toEqual([["each", -1]]);
    expect(plan.run?.to ?? null).not.toBe("failed");
  });
});
