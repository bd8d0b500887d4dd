import { describe, expect, test } from "bun:test";
import { renderWaitReason, type WaitReason, type TaskInstanceRecord } from "../../../src/domain";
import { selectDispatchable, type DispatchCandidate } from "../../../src/scheduler";
import { at, T0 } from "./helpers";

let nextId = 1;
function cand(
  task_id: string,
  o: { dag?: string; run?: string; weight?: number; queuedAt?: Date; max?: number; pool?: string; slots?: number } = {},
): DispatchCandidate {
  const ti = {
    id: nextId++,
    dag_run_id: 1,
    dag_id: o.dag ?? "etl",
    run_id: o.run ?? "r1",
    task_id,
    state: "scheduled",
    try_number: 1,
    max_tries: 0,
    operator: "bash",
    pool: o.pool ?? "default_pool",
    pool_slots: o.slots ?? 1,
    priority_weight: o.weight ?? 1,
    queued_at: null,
    start_date: null,
    end_date: null,
    last_heartbeat: null,
    hostname: null,
    pid: null,
    executor: null,
    note: null,
    wait_reason: null,
    updated_at: T0,
  } satisfies TaskInstanceRecord;
  return { ti, runQueuedAt: o.queuedAt ?? T0, maxActiveTasks: o.max ?? 16 };
}
const ids = (cs: DispatchCandidate[]) => cs.map((c) => `${c.ti.dag_id}/${c.ti.run_id}/${c.ti.task_id}`);
/** The notes a user would see for the waiting candidates. */
const notes = (waiting: { reason: WaitReason }[]) => waiting.map((w) => renderWaitReason(w.reason));
const open = { parallelism: 100, running: 0, runningByDag: new Map<string, number>() };

describe("selectDispatchable: order", () => {
  test("priority desc, then oldest run, then dag_id, run_id, task_id", () => {
    const cs = [
      cand("t", { dag: "b", weight: 1 }),
      cand("t", { dag: "a", weight: 1 }),
      cand("z", { dag: "a", run: "r2", weight: 1 }),
      cand("y", { dag: "a", run: "r2", weight: 1 }),
      cand("old", { dag: "zz", weight: 1, queuedAt: at(-60) }),
      cand("urgent", { dag: "zz", weight: 5, queuedAt: at(60) }),
    ];
    const { dispatch, waiting } = selectDispatchable(cs, open);
    expect(ids(dispatch)).toEqual(["zz/r1/urgent", "zz/r1/old", "a/r1/t", "a/r2/y", "a/r2/z", "b/r1/t"]);
    expect(waiting).toEqual([]);
  });

  test("the input order does not matter", () => {
    const cs = [cand("a", { weight: 2 }), cand("b"), cand("c", { weight: 3 })];
    expect(ids(selectDispatchable([...cs].reverse(), open).dispatch)).toEqual(ids(selectDispatchable(cs, open).dispatch));
  });
});

describe("selectDispatchable: limits", () => {
  test("global parallelism counts what is already running; the rest wait with a reason", () => {
    const cs = [cand("a", { weight: 3 }), cand("b", { weight: 2 }), cand("c", { weight: 1 })];
    const { dispatch, waiting } = selectDispatchable(cs, { parallelism: 4, running: 3, runningByDag: new Map() });
    expect(ids(dispatch)).toEqual(["etl/r1/a"]);
    expect(waiting.map((w) => [w.candidate.ti.task_id, renderWaitReason(w.reason)])).toEqual([
      ["b", "parallelism (4) reached: 4 task instances queued or running"],
      ["c", "parallelism (4) reached: 4 task instances queued or running"],
    ]);
  });

  test("max_active_tasks per DAG counts running and queued ones; other DAGs still go", () => {
    const cs = [cand("a", { max: 2 }), cand("b", { max: 2 }), cand("c", { dag: "other", max: 2 })];
    const { dispatch, waiting } = selectDispatchable(cs, { ...open, runningByDag: new Map([["etl", 1]]) });
    expect(ids(dispatch)).toEqual(["etl/r1/a", "other/r1/c"]);
    expect(notes(waiting)).toEqual(["max_active_tasks (2) reached for DAG etl"]);
  });

  test("pool slots: a task needing more slots waits, a smaller one behind it still fits", () => {
    const cs = [cand("big", { weight: 9, slots: 3 }), cand("small", { weight: 1 }), cand("small2", { weight: 0 })];
    const limits = { ...open, poolOpenSlots: new Map([["default_pool", 2]]), poolTotalSlots: new Map([["default_pool", 128]]) };
    const { dispatch, waiting } = selectDispatchable(cs, limits);
    expect(ids(dispatch)).toEqual(["etl/r1/small", "etl/r1/small2"]);
    expect(notes(waiting)).toEqual(["waiting for 3 slots in pool default_pool (2 of 128 open)"]);
  });

  test("a full pool says how many slots are open", () => {
    const cs = [cand("a"), cand("b")];
    const limits = { ...open, poolOpenSlots: new Map([["default_pool", 1]]), poolTotalSlots: new Map([["default_pool", 128]]) };
    const { waiting } = selectDispatchable(cs, limits);
    expect(notes(waiting)).toEqual(["waiting for a slot in pool default_pool (0 of 128 open)"]);
  });

  test("an unknown pool and an impossible slot count are explained", () => {
    const cs = [cand("a", { pool: "gpu" }), cand("b", { slots: 5, pool: "tiny" })];
    const limits = { ...open, poolOpenSlots: new Map([["tiny", 4]]), poolTotalSlots: new Map([["tiny", 4]]) };
    const { dispatch, waiting } = selectDispatchable(cs, limits);
    expect(dispatch).toEqual([]);
    expect(notes(waiting)).toEqual([
      "pool gpu does not exist; create it with POST /api/v2/pools or set the task's pool to an existing one",
      "task needs 5 slots but pool tiny has only 4; lower pool_slots or enlarge the pool",
    ]);
  });

  test("without pool information, pools are not limited", () => {
    const cs = [cand("a", { slots: 500 }), cand("b", { pool: "anything" })];
    expect(selectDispatchable(cs, open).dispatch).toHaveLength(2);
  });

  test("the given maps are not modified", () => {
    const runningByDag = new Map([["etl", 0]]);
    const poolOpenSlots = new Map([["default_pool", 5]]);
    selectDispatchable([cand("a"), cand("b")], { ...open, runningByDag, poolOpenSlots });
    expect(runningByDag.get("etl")).toBe(0);
    expect(poolOpenSlots.get("default_pool")).toBe(5);
  });
});
