import { describe, expect, test } from "bun:test";
import { finalizeRun, planRun, topologicalRanks } from "../../../src/scheduler";
import type { TaskState } from "../../../src/domain";
import { apply, at, dag, moves, report, run, states, T0, tis } from "./helpers";

describe("planRun: starting a run", () => {
  test("a queued run starts and its root tasks are scheduled; downstream waits", () => {
    const spec = dag([{ task_id: "extract" }, { task_id: "load", upstream: ["extract"] }]);
    const rows = tis(spec);
    const plan = planRun({ run: run("queued"), tis: rows, spec }, T0);
    expect(plan.run).toEqual({ from: ["queued"], to: "running" });
    expect(moves(plan.transitions, rows)).toEqual(["extract:none->scheduled"]);
    expect(plan.transitions[0]).toMatchObject({ id: 1, from: ["none"], to: "scheduled", try_number: 1 });
    expect(plan.nextWakeAt).toBeNull();
  });

  test("a running run with nothing to do plans nothing", () => {
    const spec = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }]);
    const plan = planRun({ run: run(), tis: tis(spec, { a: "running" }), spec }, T0);
    expect(plan).toEqual({ transitions: [], run: null, nextWakeAt: null });
  });

  test("a finished run is left alone", () => {
    const spec = dag([{ task_id: "a" }]);
    expect(planRun({ run: run("success"), tis: tis(spec), spec }, T0)).toEqual({ transitions: [], run: null, nextWakeAt: null });
  });
});

describe("planRun: the retry timeline", () => {
  test("fail -> up_for_retry -> waits -> none/try 2 at exactly end+delay -> scheduled -> success", () => {
    const spec = dag([
      { task_id: "flaky", retries: 1, retry_delay: 60 },
      { task_id: "after", upstream: ["flaky"] },
    ]);
    let rows = tis(spec);
    const step = (now: Date) => {
      const plan = planRun({ run: run(), tis: rows, spec }, now);
      rows = apply(rows, plan.transitions, now);
      return plan;
    };

    step(at(0));
    expect(states(rows)).toEqual({ flaky: "scheduled", after: "none" });
    rows = report(rows, "flaky", { state: "failed", start_date: at(1), end_date: at(10), hostname: "h1", pid: 42 });

    // Try 1 failed with a retry left: up_for_retry, end_date kept, downstream waits, run stays running.
    let plan = step(at(10));
    expect(states(rows)).toEqual({ flaky: "up_for_retry", after: "none" });
    expect(rows[0]!.end_date).toEqual(at(10));
    expect(plan.run).toBeNull();
    expect(plan.nextWakeAt).toEqual(at(70));

    // One millisecond early: still waiting, and the wake-up time is unchanged.
    plan = step(new Date(at(70).getTime() - 1));
    expect(plan.transitions).toEqual([]);
    expect(plan.nextWakeAt).toEqual(at(70));

    // Exactly end + delay: reset to none on try 2, previous try's traces cleared.
    plan = step(at(70));
    expect(plan.transitions).toEqual([
      {
        id: 1,
        from: ["up_for_retry"],
        to: "none",
        try_number: 1,
        patch: {
          try_number: 2,
          start_date: null,
          end_date: null,
          queued_at: null,
          hostname: null,
          pid: null,
          last_heartbeat: null,
          note: null,
        },
      },
    ]);
    expect(rows[0]).toMatchObject({ state: "none", try_number: 2, end_date: null, hostname: null, pid: null });
    expect(plan.nextWakeAt).toEqual(at(70)); // plan again at once to schedule it

    step(at(70));
    expect(states(rows)).toEqual({ flaky: "scheduled", after: "none" });
    rows = report(rows, "flaky", { state: "success", end_date: at(80) });
    step(at(80));
    expect(states(rows)).toEqual({ flaky: "success", after: "scheduled" });
    rows = report(rows, "after", { state: "success", end_date: at(90) });
    expect(step(at(90)).run).toEqual({ from: ["running"], to: "success" });
  });

  test("a failure with no retries left fails downstream and the run", () => {
    const spec = dag([
      { task_id: "flaky", retries: 1 },
      { task_id: "after", upstream: ["flaky"] },
    ]);
    const rows = tis(spec, { flaky: { state: "failed", try_number: 2, end_date: at(5) } });
    const plan = planRun({ run: run(), tis: rows, spec }, at(6));
    expect(moves(plan.transitions, rows)).toEqual(["after:none->upstream_failed"]);
    expect(plan.transitions[0]!.patch).toMatchObject({ end_date: at(6), note: "trigger rule all_success: flaky=failed" });
    expect(plan.run).toEqual({ from: ["running"], to: "failed", note: "task(s) failed: flaky" });
  });

  test("a retriable failure counts as active: all_done downstream waits and the run does not finish", () => {
    const spec = dag([
      { task_id: "a", retries: 2 },
      { task_id: "cleanup", upstream: ["a"], trigger_rule: "all_done" },
    ]);
    const rows = tis(spec, { a: { state: "failed", end_date: at(0) } });
    const plan = planRun({ run: run(), tis: rows, spec }, at(1));
    expect(moves(plan.transitions, rows)).toEqual(["a:failed->up_for_retry"]);
    expect(plan.run).toBeNull();
    expect(plan.nextWakeAt).toEqual(at(300)); // default retry_delay is 300 s
  });

  test("a failed task without end_date gets one now, and its delay counts from now", () => {
    const spec = dag([{ task_id: "a", retries: 1, retry_delay: 5 }]);
    const rows = tis(spec, { a: "failed" });
    const plan = planRun({ run: run(), tis: rows, spec }, at(100));
    expect(plan.transitions[0]).toMatchObject({ to: "up_for_retry", patch: { end_date: at(100) } });
    expect(plan.nextWakeAt).toEqual(at(105));
  });

  test("exponential delays double per try and stop at max_retry_delay", () => {
    const spec = dag([{ task_id: "a", retries: 10, retry_delay: 10, retry_exponential_backoff: true, max_retry_delay: 50 }]);
    const dueAfter = (tryNumber: number) => {
      const rows = tis(spec, { a: { state: "up_for_retry", try_number: tryNumber, end_date: T0 } });
      return (planRun({ run: run(), tis: rows, spec }, T0).nextWakeAt!.getTime() - T0.getTime()) / 1000;
    };
    expect([1, 2, 3, 4, 5].map(dueAfter)).toEqual([10, 20, 40, 50, 50]);
  });
});

describe("planRun: cascades", () => {
  test("a skip cascades down a chain in one plan (all_success)", () => {
    const spec = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }, { task_id: "c", upstream: ["b"] }]);
    const rows = tis(spec, { a: { state: "skipped", end_date: at(1) } });
    const plan = planRun({ run: run(), tis: rows, spec }, at(2));
    expect(moves(plan.transitions, rows)).toEqual(["b:none->skipped", "c:none->skipped"]);
    expect(plan.transitions.map((t) => t.patch?.end_date)).toEqual([at(2), at(2)]);
    // Every leaf is skipped: the run succeeds, as in Airflow.
    expect(plan.run).toEqual({ from: ["running"], to: "success" });
  });

  test("upstream_failed cascades, and an all_done task after it runs and decides the run", () => {
    const spec = dag([
      { task_id: "a" },
      { task_id: "b", upstream: ["a"] },
      { task_id: "c", upstream: ["b"] },
      { task_id: "notify", upstream: ["c"], trigger_rule: "all_done" },
    ]);
    let rows = tis(spec, { a: { state: "failed", end_date: at(1) } });
    const plan = planRun({ run: run(), tis: rows, spec }, at(2));
    expect(moves(plan.transitions, rows)).toEqual(["b:none->upstream_failed", "c:none->upstream_failed", "notify:none->scheduled"]);
    expect(plan.run).toBeNull();
    rows = report(apply(rows, plan.transitions, at(2)), "notify", { state: "success" });
    // The failure was absorbed by the leaf: Airflow judges a run by its leaves.
    expect(planRun({ run: run(), tis: rows, spec }, at(3)).run).toEqual({ from: ["running"], to: "success" });
  });

  test("a diamond fans out, then fans in only when both branches are done", () => {
    const spec = dag([
      { task_id: "start" },
      { task_id: "left", upstream: ["start"] },
      { task_id: "right", upstream: ["start"] },
      { task_id: "join", upstream: ["left", "right"] },
    ]);
    let rows = tis(spec, { start: "success" });
    let plan = planRun({ run: run(), tis: rows, spec }, at(1));
    expect(moves(plan.transitions, rows)).toEqual(["left:none->scheduled", "right:none->scheduled"]);
    rows = report(apply(rows, plan.transitions, at(1)), "left", { state: "success" });
    plan = planRun({ run: run(), tis: rows, spec }, at(2));
    expect(plan.transitions).toEqual([]);
    rows = report(rows, "right", { state: "success" });
    plan = planRun({ run: run(), tis: rows, spec }, at(3));
    expect(moves(plan.transitions, rows)).toEqual(["join:none->scheduled"]);
  });

  test("a diamond with a skipped branch: join skips under all_success, runs under none_failed_min_one_success", () => {
    const shape = (rule: string) =>
      dag([
        { task_id: "start" },
        { task_id: "left", upstream: ["start"] },
        { task_id: "right", upstream: ["start"] },
        { task_id: "join", upstream: ["left", "right"], trigger_rule: rule },
      ]);
    for (const [rule, expected] of [
      ["all_success", "skipped"],
      ["none_failed_min_one_success", "scheduled"],
    ] as const) {
      const spec = shape(rule);
      const rows = tis(spec, { start: "success", left: "success", right: "skipped" });
      const plan = planRun({ run: run(), tis: rows, spec }, at(1));
      expect(moves(plan.transitions, rows)).toEqual([`join:none->${expected}`]);
    }
  });
});

describe("planRun: odd inputs", () => {
  test("a task instance whose task is gone from the DAG version is removed, and ignored by finalize", () => {
    const spec = dag([{ task_id: "a" }]);
    const rows = [...tis(spec, { a: "success" }), { ...tis(spec)[0]!, id: 9, task_id: "old" }];
    const plan = planRun({ run: run(), tis: rows, spec }, at(1));
    expect(moves(plan.transitions, rows)).toEqual(["old:none->removed"]);
    expect(plan.run).toEqual({ from: ["running"], to: "success" });
  });

  test("a task without a task instance is skipped over, and its downstream deadlocks the run", () => {
    const spec = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }]);
    const rows = tis(spec).filter((r) => r.task_id === "b");
    const plan = planRun({ run: run(), tis: rows, spec }, at(1));
    expect(plan.transitions).toEqual([]);
    expect(plan.run).toEqual({
      from: ["running"],
      to: "failed",
      note: "deadlock: task(s) b can never start; their upstreams finished without meeting their trigger rules",
    });
  });

  test("tasks still running keep the run going even when others wait", () => {
    const spec = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }]);
    expect(planRun({ run: run(), tis: tis(spec, { a: "queued" }), spec }, at(1)).run).toBeNull();
  });

  test("a queued run whose tasks are all already finished goes straight to its final state", () => {
    const spec = dag([{ task_id: "a" }]);
    expect(planRun({ run: run("queued"), tis: tis(spec, { a: "failed" }), spec }, at(1)).run).toEqual({
      from: ["queued"],
      to: "failed",
      note: "task(s) failed: a",
    });
  });
});

describe("planRun: determinism", () => {
  test("same input, same output; order is topological then task_id, whatever the input order", () => {
    const tasks = [
      { task_id: "z_root" },
      { task_id: "a_root" },
      { task_id: "m", upstream: ["z_root"] },
      { task_id: "b", upstream: ["a_root"] },
      { task_id: "end", upstream: ["m", "b"], trigger_rule: "all_done" },
    ];
    const spec = dag(tasks);
    const reversed = dag([...tasks].reverse());
    const rows = tis(spec, { z_root: "skipped", a_root: "skipped" });
    const one = planRun({ run: run(), tis: rows, spec }, at(1));
    const two = planRun({ run: run(), tis: [...rows].reverse(), spec: reversed }, at(1));
    expect(two).toEqual(one);
    expect(moves(one.transitions, rows)).toEqual(["b:none->skipped", "m:none->skipped", "end:none->scheduled"]);
  });

  test("topologicalRanks: depth from the roots", () => {
    const spec = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }, { task_id: "c", upstream: ["a", "b"] }, { task_id: "d" }]);
    expect(Object.fromEntries(topologicalRanks(spec.tasks))).toEqual({ a: 0, b: 1, c: 2, d: 0 });
  });
});

describe("finalizeRun", () => {
  const spec = dag([
    { task_id: "a" },
    { task_id: "b", upstream: ["a"] },
    { task_id: "leaf1", upstream: ["b"] },
    { task_id: "leaf2", upstream: ["b"] },
  ]);
  const ti = (task_id: string, state: TaskState, try_number = 1, max_tries = 0) => ({ task_id, state, try_number, max_tries });
  const all = (s: Record<string, TaskState>, retries: Record<string, [number, number]> = {}) =>
    Object.entries(s).map(([id, st]) => ti(id, st, ...(retries[id] ?? [1, 0])));

  test.each([
    ["all success", all({ a: "success", b: "success", leaf1: "success", leaf2: "success" }), "success"],
    ["leaves success or skipped", all({ a: "success", b: "success", leaf1: "skipped", leaf2: "success" }), "success"],
    ["all skipped", all({ a: "skipped", b: "skipped", leaf1: "skipped", leaf2: "skipped" }), "success"],
    ["a leaf failed", all({ a: "success", b: "success", leaf1: "failed", leaf2: "success" }), "failed"],
    ["a leaf upstream_failed", all({ a: "failed", b: "upstream_failed", leaf1: "upstream_failed", leaf2: "upstream_failed" }), "failed"],
    ["a middle task failed but the leaves succeeded", all({ a: "success", b: "failed", leaf1: "success", leaf2: "success" }), "success"],
    ["a removed leaf is ignored", all({ a: "success", b: "success", leaf1: "removed", leaf2: "success" }), "success"],
    ["one still running", all({ a: "success", b: "success", leaf1: "running", leaf2: "failed" }), null],
    ["one up_for_retry", all({ a: "success", b: "success", leaf1: "up_for_retry", leaf2: "success" }), null],
    ["one none", all({ a: "success", b: "success", leaf1: "none", leaf2: "success" }), null],
    ["a failed leaf with retries left", all({ a: "success", b: "success", leaf1: "failed", leaf2: "success" }, { leaf1: [1, 1] }), null],
    ["a failed leaf on its last try", all({ a: "success", b: "success", leaf1: "failed", leaf2: "success" }, { leaf1: [2, 1] }), "failed"],
  ] as const)("%s -> %s", (_name, tisIn, expected) => {
    expect(finalizeRun({ spec, tis: [...tisIn] })).toBe(expected);
  });
});
