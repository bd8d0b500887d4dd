import { describe, expect, test } from "bun:test";
import { clearFor, relatedTaskIds, requeueAfterClear, selectClearTargets, type ClearSelection } from "../../../src/scheduler";
import { dag, run, tis } from "./helpers";

// a → b → c, a → d; e alone
const spec = dag([
  { task_id: "a" },
  { task_id: "b", upstream: ["a"] },
  { task_id: "c", upstream: ["b"] },
  { task_id: "d", upstream: ["a"] },
  { task_id: "e", retries: 2 },
]);

describe("relatedTaskIds", () => {
  test.each([
    ["just the named tasks", ["b"], {}, ["b"]],
    ["downstream is transitive", ["a"], { downstream: true }, ["a", "b", "c", "d"]],
    ["upstream is transitive", ["c"], { upstream: true }, ["a", "b", "c"]],
    ["both ways from the middle", ["b"], { upstream: true, downstream: true }, ["a", "b", "c"]],
    ["several names, overlapping closures", ["b", "d"], { downstream: true }, ["b", "c", "d"]],
    ["a lone task has no relatives", ["e"], { upstream: true, downstream: true }, ["e"]],
    ["null selects every task", null, { downstream: true }, ["a", "b", "c", "d", "e"]],
  ] as const)("%s", (_name, ids, opts, expected) => {
    expect([...relatedTaskIds(spec, ids, opts)].sort()).toEqual([...expected]);
  });
});

describe("selectClearTargets", () => {
  const rows = tis(spec, { a: "success", b: "failed", c: "upstream_failed", d: "running", e: "none" });
  const pick = (sel: ClearSelection) => selectClearTargets(spec, rows, sel).map((t) => t.task_id);

  test.each([
    ["every task instance", { task_ids: null }, ["a", "b", "c", "d", "e"]],
    ["only_failed: failed and upstream_failed", { task_ids: null, only_failed: true }, ["b", "c"]],
    ["only_running", { task_ids: null, only_running: true }, ["d"]],
    ["one task with its downstream", { task_ids: ["b"], include_downstream: true }, ["b", "c"]],
    ["upstream of c, only failed", { task_ids: ["c"], include_upstream: true, only_failed: true }, ["b", "c"]],
    ["exclude leaves the named task out", { task_ids: ["a"], include_downstream: true, exclude: ["a"] }, ["b", "c", "d"]],
    ["a task instance in none is selected (listed, not written)", { task_ids: ["e"] }, ["e"]],
  ] as const)("%s", (_name, sel, expected) => {
    expect(pick(sel as ClearSelection)).toEqual([...expected]);
  });

  test("with task_ids null, a task instance of a task gone from the version is cleared too", () => {
    const extra = [...rows, { ...rows[0]!, id: 99, task_id: "gone", state: "failed" as const }];
    expect(selectClearTargets(spec, extra, { task_ids: null, only_failed: true }).map((t) => t.task_id)).toEqual(["b", "c", "gone"]);
  });
});

describe("clearFor: the next try and a fresh retry budget", () => {
  const e = spec.tasks.find((t) => t.task_id === "e")!; // retries: 2
  const row = (over: object) => ({ ...tis(spec)[4]!, ...over });

  test.each([
    // state, try, max_tries, hostname → new try, new max_tries (Airflow: max_tries = old try + retries)
    ["failed after using every retry", "failed", 3, 2, null, 4, 5],
    ["success on the first try", "success", 1, 2, null, 2, 3],
    ["running (the agent is told to stop)", "running", 2, 2, "w1", 3, 4],
    ["queued (may be starting)", "queued", 1, 2, null, 2, 3],
    ["up_for_retry", "up_for_retry", 2, 2, null, 3, 4],
    ["deferred (a waiting sensor: its check in flight must not land on the new try)", "deferred", 1, 2, null, 2, 3],
    ["skipped by a trigger rule never started: same try", "skipped", 1, 2, null, 1, 2],
    ["upstream_failed never started: same try", "upstream_failed", 1, 2, null, 1, 2],
    ["skipped by the task itself (an agent ran it): new try", "skipped", 1, 2, "w1", 2, 3],
    ["scheduled never started: same try", "scheduled", 1, 2, null, 1, 2],
  ] as const)("%s", (_name, state, tryNumber, maxTries, hostname, newTry, newMax) => {
    const ti = row({ state, try_number: tryNumber, max_tries: maxTries, hostname });
    expect(clearFor(ti, e)).toEqual({ id: ti.id, from: state, from_try: tryNumber, try_number: newTry, max_tries: newMax });
  });

  test("a task instance already in none needs no write", () => {
    expect(clearFor(row({ state: "none" }), e)).toBeNull();
  });

  test("a task gone from the run's version keeps its budget, at least the tries used", () => {
    expect(clearFor(row({ state: "failed", try_number: 4, max_tries: 1 }), undefined)).toMatchObject({ try_number: 5, max_tries: 4 });
  });
});

describe("requeueAfterClear", () => {
  test.each([
    ["success", { id: 1, from: ["success"], to: "queued" }],
    ["failed", { id: 1, from: ["failed"], to: "queued" }],
    ["running", null],
    ["queued", null],
  ] as const)("a %s run", (state, expected) => {
    expect(requeueAfterClear(run(state))).toEqual(expected as never);
  });
});
