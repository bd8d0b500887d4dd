/** Which rows a wide DAG's page reads: the rows in view and a margin, named in reads whose URLs stay bounded. */
import { expect, test } from "bun:test";
import { wantedTaskIds, windowQueries } from "../../../src/ui/app/task-window";

const ids = Array.from({ length: 1_000 }, (_, i) => `t${i}`);

test("the rows in view and the margin each side, cut at the ends", () => {
  expect(wantedTaskIds(ids, 100, 120, 10)).toEqual(ids.slice(90, 131));
  expect(wantedTaskIds(ids, 0, 5, 10)).toEqual(ids.slice(0, 16));
  expect(wantedTaskIds(ids, 995, 999, 10)).toEqual(ids.slice(985, 1_000));
  expect(wantedTaskIds([], 0, 0)).toEqual([]);
});

test("every run with every task, each read's run ids and task ids within the budget, escaped", () => {
  const one = windowQueries(["r 1", "r/2"], ids.slice(0, 10));
  expect(one).toHaveLength(1);
  expect(new URLSearchParams(one[0]).getAll("dag_run_id")).toEqual(["r 1", "r/2"]);
  expect(new URLSearchParams(one[0]).getAll("task_id")).toEqual(ids.slice(0, 10));
  // A small budget splits both sides; together the reads name every (run, task) pair once.
  const runs = Array.from({ length: 30 }, (_, i) => `manual__2026-12-06T10:00:${String(i).padStart(2, "0")}+00:00`);
  const qs = windowQueries(runs, ids.slice(0, 200), 600);
  expect(qs.length).toBeGreaterThan(4);
  const pairs = new Set<string>();
  for (const q of qs) {
    const p = new URLSearchParams(q);
    expect(q.length).toBeLessThanOrEqual(2 * 600 + 1);
    for (const r of p.getAll("dag_run_id")) for (const t of p.getAll("task_id")) pairs.add(`${r} ${t}`);
  }
  expect(pairs.size).toBe(30 * 200);
  // One id longer than the budget still goes, alone.
  expect(windowQueries(["r1"], ["x".repeat(700)], 600)).toEqual([`dag_run_id=r1&task_id=${"x".repeat(700)}`]);
  expect(windowQueries([], ids)).toEqual([]);
  expect(windowQueries(["r1"], [])).toEqual([]);
});
