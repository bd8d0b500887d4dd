/**
 * clearsForRun: a mapped task cleared whole collapses so it expands again; some of its instances rerun as they are.
 * selectClearTargets: a task named with map indexes (Airflow's [task_id, map_index] pairs) selects those instances.
 */
import { describe, expect, test } from "bun:test";
import type { TaskInstanceRecord, TaskState } from "../../../src/domain";
import { clearsForRun, selectClearTargets, type ClearSelection } from "../../../src/scheduler";
import { dag, tis } from "./helpers";

const spec = dag([
  { task_id: "make" },
  { task_id: "each", expand: { x: { xcom: "make" } }, retries: 1 },
  { task_id: "lit", expand: { y: [1] } },
]);

/** `make` succeeded; `each` expanded into instances in the given states (ids 10, 11, …). */
function rows(eachStates: TaskState[]): TaskInstanceRecord[] {
  const base = tis(spec, { make: "success" });
  const template = base.find((t) => t.task_id === "each")!;
  return [...base.filter((t) => t.task_id !== "each"), ...eachStates.map((state, i) => ({ ...template, id: 10 + i, map_index: i, state }))];
}

const shape = (cs: ReturnType<typeof clearsForRun>) =>
  cs.map((c) => `${c.id}:${c.from}→${c.to ?? "none"}${c.map_index === undefined ? "" : `@${c.map_index}`} try${c.try_number}`);

describe("clearsForRun", () => {
  test("every instance targeted: instance 0 back to -1, the others removed; one never run still collapses or goes", () => {
    const run = rows(["success", "failed", "none"]);
    // lit, still unexpanded in none, needs nothing.
    expect(shape(clearsForRun(spec, run, run))).toEqual([
      "1:success→none try2",
      "10:success→none@-1 try2",
      "11:failed→removed try2",
      "12:none→removed try1",
    ]);
  });

  test.each<[string, TaskState[], (t: TaskInstanceRecord) => boolean, string[]]>([
    [
      "only the failed instance (only_failed): it reruns as it is",
      ["success", "failed"],
      (t) => t.state === "failed",
      ["11:failed→none try2"],
    ],
    ["one map_index: it reruns as it is", ["success", "success"], (t) => t.map_index === 0, ["10:success→none try2"]],
    [
      "instances an earlier re-expansion removed are not needed for a whole clear, and stay removed",
      ["success", "removed"],
      (t) => t.task_id === "each" && t.state !== "removed",
      ["10:success→none@-1 try2"],
    ],
    [
      "instances an earlier re-expansion removed stay removed when the selection names them too (they once ran with no argument and failed the run)",
      ["success", "success", "removed"],
      (t) => t.task_id === "each",
      ["10:success→none@-1 try2", "11:success→removed try2"],
    ],
    ["a removed instance named alone is left as it is", ["success", "removed"], (t) => t.map_index === 1, []],
  ])("%s", (_, states, pick, expected) => {
    const run = rows(states);
    expect(shape(clearsForRun(spec, run, run.filter(pick)))).toEqual(expected);
  });
});

describe("selectClearTargets with map indexes", () => {
  test("a task named with map indexes selects those instances only; its downstream and other tasks whole", () => {
    const run = [
      ...rows(["success", "failed", "success"]),
      ...tis(spec, {})
        .filter((t) => t.task_id === "lit")
        .map((t) => ({ ...t, id: 30 })),
    ];
    const picked = (sel: ClearSelection) => selectClearTargets(spec, run, sel).map((t) => `${t.task_id}@${t.map_index}`);
    expect(picked({ task_ids: ["each"], map_indexes: new Map([["each", new Set([1])]]) })).toEqual(["each@1"]);
    expect(picked({ task_ids: ["each", "make"], map_indexes: new Map([["each", new Set([0, 2])]]) })).toEqual([
      "make@-1",
      "each@0",
      "each@2",
    ]);
    // Without map indexes a named mapped task is every instance (a whole clear, which re-expands it).
    expect(picked({ task_ids: ["each"] })).toEqual(["each@0", "each@1", "each@2"]);
  });
});
