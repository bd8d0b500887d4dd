/**
 * Empty tasks (Airflow's EmptyOperator) in the planner: success as soon as their trigger rule schedules them,
 * with no executor and no slot, so a chain of them ends within one plan; their rules still skip or fail them.
 */
import { describe, expect, test } from "bun:test";
import { planRun } from "../../../src/scheduler";
import { apply, at, dag, moves, report, run, states, T0, tis } from "./helpers";

const empty = (task_id: string, upstream: string[] = [], more: Record<string, unknown> = {}) => ({
  task_id,
  upstream,
  operator: "empty",
  bash_command: undefined,
  ...more,
});

describe("planRun: empty tasks", () => {
  test("a start marker succeeds at once, started and ended now, and the task after it is scheduled in the same plan", () => {
    const spec = dag([empty("start"), { task_id: "work", upstream: ["start"] }]);
    const rows = tis(spec);
    const plan = planRun({ run: run("queued"), tis: rows, spec }, T0);
    expect(moves(plan.transitions, rows)).toEqual(["start:none->success", "work:none->scheduled"]);
    expect(plan.transitions[0]).toMatchObject({ from: ["none"], to: "success", try_number: 1, patch: { start_date: T0, end_date: T0 } });
    expect(plan.run).toEqual({ from: ["queued"], to: "running" });
  });

  test("a DAG of empty tasks only ends, run included, in one plan", () => {
    const spec = dag([empty("a"), empty("b", ["a"]), empty("c", ["a"]), empty("join", ["b", "c"])]);
    const rows = tis(spec);
    const plan = planRun({ run: run(), tis: rows, spec }, T0);
    expect(moves(plan.transitions, rows)).toEqual(["a:none->success", "b:none->success", "c:none->success", "join:none->success"]);
    expect(plan.run).toEqual({ from: ["running"], to: "success" });
  });

  test("a chain of 30,000 empty tasks declared leaf first ends in one plan (no call stack overflow)", () => {
    const n = 30_000;
    const spec = dag(Array.from({ length: n }, (_, k) => n - 1 - k).map((i) => empty(`t${i}`, i ? [`t${i - 1}`] : [])));
    const rows = tis(spec);
    const plan = planRun({ run: run("queued"), tis: rows, spec }, T0);
    expect(plan.transitions).toHaveLength(n);
    expect(plan.transitions.every((tr) => tr.to === "success")).toBe(true);
    expect(plan.run).toEqual({ from: ["queued"], to: "success" });
  });

  test("an end marker waits for its upstreams, then succeeds when the last one does", () => {
    const spec = dag([{ task_id: "load" }, { task_id: "report" }, empty("done", ["load", "report"])]);
    let rows = apply(tis(spec), planRun({ run: run(), tis: tis(spec), spec }, T0).transitions, T0);
    rows = report(rows, "load", { state: "success", end_date: at(5) });
    let plan = planRun({ run: run(), tis: rows, spec }, at(5));
    expect(plan.transitions).toEqual([]);
    rows = report(rows, "report", { state: "success", end_date: at(9) });
    plan = planRun({ run: run(), tis: rows, spec }, at(9));
    expect(moves(plan.transitions, rows)).toEqual(["done:none->success"]);
    rows = apply(rows, plan.transitions, at(9));
    expect(rows.find((r) => r.task_id === "done")).toMatchObject({ state: "success", start_date: at(9), end_date: at(9) });
    expect(planRun({ run: run(), tis: rows, spec }, at(9)).run).toEqual({ from: ["running"], to: "success" });
  });

  test("its trigger rule still decides: upstream_failed after a failure, success with all_done, skipped after a skip", () => {
    const spec = dag([
      { task_id: "work" },
      empty("on_success", ["work"]),
      empty("cleanup", ["work"], { trigger_rule: "all_done" }),
      empty("after_skip", ["on_success"]),
    ]);
    let rows = apply(tis(spec), planRun({ run: run(), tis: tis(spec), spec }, T0).transitions, T0);
    rows = report(rows, "work", { state: "failed", end_date: at(3) });
    rows = apply(rows, planRun({ run: run(), tis: rows, spec }, at(3)).transitions, at(3));
    expect(states(rows)).toEqual({ work: "failed", on_success: "upstream_failed", cleanup: "success", after_skip: "upstream_failed" });

    const skipping = dag([{ task_id: "branch" }, empty("joined", ["branch"])]);
    const skipped = tis(skipping, { branch: "skipped" });
    expect(moves(planRun({ run: run(), tis: skipped, spec: skipping }, T0).transitions, skipped)).toEqual(["joined:none->skipped"]);
  });

  test("a cleared empty task succeeds again on the next plan, on its own try", () => {
    const spec = dag([{ task_id: "a" }, empty("b", ["a"])]);
    const rows = tis(spec, { a: "success", b: { state: "none", try_number: 2 } });
    const plan = planRun({ run: run(), tis: rows, spec }, at(1));
    expect(plan.transitions).toEqual([
      { id: 2, from: ["none"], to: "success", try_number: 2, patch: { start_date: at(1), end_date: at(1) } },
    ]);
  });
});
