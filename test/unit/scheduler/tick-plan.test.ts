/** One tick's plan over several runs, pure: per-run errors contained, the budget defers the rest, timeouts first. */
import { describe, expect, test } from "bun:test";
import { planTick } from "../../../src/scheduler/tick-plan";
import { T0, at, dag, run, tis } from "./helpers";

const spec = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }], { dagrun_timeout: 60 });
const snap = (id: number, version_id = 1) => ({
  run: { ...run(), id, run_id: `r${id}`, version_id },
  tis: tis(spec).map((t) => ({ ...t, id: id * 10 + t.id, dag_run_id: id })),
});

describe("planTick", () => {
  test("plans each run, batches the transitions with their run, and asks to wake at the run's timeout", () => {
    const plan = planTick(
      { snapshots: [snap(1), snap(2)], specs: new Map([[1, spec]]), pastBlocks: new Map(), outOfTime: () => false },
      T0,
    );
    expect(plan.transitions.map((t) => [t.id, t.to])).toEqual([
      [11, "scheduled"],
      [21, "scheduled"],
    ]);
    expect(plan.transitionRun).toEqual([1, 2]);
    expect(plan.planned.map((p) => p.snap.run.id)).toEqual([1, 2]);
    expect(plan.wakeUps).toEqual([
      { runId: 1, at: at(60) },
      { runId: 2, at: at(60) },
    ]);
    expect(plan.failed).toEqual([]);
  });

  test("a run whose DAG version could not be loaded fails alone; the others are planned", () => {
    const missing = new Error("DAG version 2 is missing from the store");
    const plan = planTick(
      {
        snapshots: [snap(1, 2), snap(2)],
        specs: new Map<number, typeof spec | Error>([
          [1, spec],
          [2, missing],
        ]),
        pastBlocks: new Map(),
        outOfTime: () => false,
      },
      T0,
    );
    expect(plan.failed.map((f) => [f.run.id, f.error.message])).toEqual([[1, "DAG version 2 is missing from the store"]]);
    expect(plan.planned.map((p) => p.snap.run.id)).toEqual([2]);
  });

  test("once the budget is spent, the remaining runs are deferred to the next tick", () => {
    let asked = 0;
    const plan = planTick(
      { snapshots: [snap(1), snap(2), snap(3)], specs: new Map([[1, spec]]), pastBlocks: new Map(), outOfTime: () => ++asked > 1 },
      T0,
    );
    expect(plan.planned.map((p) => p.snap.run.id)).toEqual([1]);
    expect(plan.deferred).toEqual([2, 3]);
  });

  test("a run past its dagrun_timeout fails with its tasks instead of being planned", () => {
    const plan = planTick({ snapshots: [snap(1)], specs: new Map([[1, spec]]), pastBlocks: new Map(), outOfTime: () => false }, at(61));
    expect(plan.runChanges.map((c) => [c.run.id, c.to, c.note])).toEqual([[1, "failed", "dagrun_timeout (60s) exceeded"]]);
    expect(plan.transitions.map((t) => t.to)).toEqual(["skipped", "skipped"]);
    expect(plan.planned).toEqual([]);
  });
});
