/** Which rows a wide DAG's page reads: the rows in view and a margin, named in reads of bounded size. */
import { expect, test } from "bun:test";
import { wantedTaskIds, WINDOW_READ_TASKS, windowQueries } from "../../../src/ui/app/task-window";

const ids = Array.from({ length: 1_000 }, (_, i) => `t${i}`);

test("the rows in view and the margin each side, cut at the ends", () => {
  expect(wantedTaskIds(ids, 100, 120, 10)).toEqual(ids.slice(90, 131));
  expect(wantedTaskIds(ids, 0, 5, 10)).toEqual(ids.slice(0, 16));
  expect(wantedTaskIds(ids, 995, 999, 10)).toEqual(ids.slice(985, 1_000));
  expect(wantedTaskIds([], 0, 0)).toEqual([]);
});

test("reads name every run and at most WINDOW_READ_TASKS tasks each, escaped", () => {
  const qs = windowQueries(["r 1", "r/2"], ids.slice(0, WINDOW_READ_TASKS + 5));
  expect(qs).toHaveLength(2);
  const first = new URLSearchParams(qs[0]);
  expect(first.getAll("dag_run_id")).toEqual(["r 1", "r/2"]);
  expect(first.getAll("task_id")).toEqual(ids.slice(0, WINDOW_READ_TASKS));
  expect(new URLSearchParams(qs[1]).getAll("task_id")).toEqual(ids.slice(WINDOW_READ_TASKS, WINDOW_READ_TASKS + 5));
  expect(windowQueries([], ids)).toEqual([]);
  expect(windowQueries(["r1"], [])).toEqual([]);
});
