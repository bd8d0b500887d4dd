/** Pool accounting for the dispatcher (poolLimits) and the waiting notes the loop writes. */
import { describe, expect, test } from "bun:test";
import { renderWaitReason, type PoolRecord } from "../../../src/domain";
import { poolLimits, selectDispatchable, waitCleared, waitingNotes, withWaitReason, type DispatchCandidate } from "../../../src/scheduler";
import { T0, dag, tis } from "./helpers";

const pool = (name: string, slots: number, running = 0, queued = 0, scheduled = 0, team = "default"): PoolRecord => ({
  team,
  name,
  slots,
  description: null,
  include_deferred: false,
  running_slots: running,
  queued_slots: queued,
  scheduled_slots: scheduled,
  deferred_slots: 0,
});

describe("poolLimits", () => {
  test.each([
    ["empty pool: all slots open", [pool("p", 4)], 4, 4],
    ["running and queued occupy; scheduled does not", [pool("p", 4, 1, 2, 5)], 1, 4],
    ["over-full after the pool shrank: negative open", [pool("p", 2, 3)], -1, 2],
    ["deferred ones occupy with include_deferred (Airflow's)", [{ ...pool("p", 4, 1), include_deferred: true, deferred_slots: 2 }], 1, 4],
    ["deferred ones occupy nothing without it", [{ ...pool("p", 4, 1), deferred_slots: 2 }], 3, 4],
    ["-1 means unlimited", [pool("p", -1, 100)], Infinity, Infinity],
  ] as const)("%s", (_name, pools, open, total) => {
    const limits = poolLimits(pools);
    expect(limits.poolOpenSlots.get("default/p")).toBe(open);
    expect(limits.poolTotalSlots.get("default/p")).toBe(total);
  });

  test("two teams' pools named alike are counted apart", () => {
    const limits = poolLimits([pool("gpu", 4, 4), pool("gpu", 2, 0, 1, 0, "ml")]);
    expect([...limits.poolOpenSlots]).toEqual([
      ["default/gpu", 0],
      ["ml/gpu", 1],
    ]);
  });
});

describe("pool slots through selectDispatchable", () => {
  const spec = dag(
    [
      { task_id: "a", pool: "gpu", priority_weight: 3 },
      { task_id: "b", pool: "gpu", priority_weight: 2 },
      { task_id: "c", pool: "gpu", priority_weight: 1 },
      { task_id: "d", pool: "missing" },
      { task_id: "big", pool: "gpu", pool_slots: 5 },
    ],
    { max_active_tasks: 100 },
  );
  const cands: DispatchCandidate[] = tis(spec, { a: "scheduled", b: "scheduled", c: "scheduled", d: "scheduled", big: "scheduled" }).map(
    (ti) => ({
      ti,
      runQueuedAt: T0,
      maxActiveTasks: 100,
    }),
  );
  const select = (pools: PoolRecord[]) =>
    selectDispatchable(cands, { parallelism: 32, running: 0, runningByDag: new Map(), ...poolLimits(pools) });

  test("a pool of 2 takes the two highest priorities; the rest wait with reasons a user can act on", () => {
    const { dispatch, waiting } = select([pool("gpu", 2)]);
    expect(dispatch.map((c) => c.ti.task_id)).toEqual(["a", "b"]);
    expect(Object.fromEntries(waiting.map((w) => [w.candidate.ti.task_id, renderWaitReason(w.reason)]))).toEqual({
      c: "waiting for a slot in pool gpu (0 of 2 open)",
      big: "task needs 5 slots but pool gpu has only 2; lower pool_slots or enlarge the pool",
      d: "pool missing does not exist; create it with POST /api/v2/pools or set the task's pool to an existing one",
    });
  });

  test("slots already running count against the pool", () => {
    const { dispatch } = select([pool("gpu", 2, 1, 0)]);
    expect(dispatch.map((c) => c.ti.task_id)).toEqual(["a"]);
  });

  test("each waiting task instance gets its rendered note and its kind; written only when either changes", () => {
    const { waiting } = select([pool("gpu", 2)]);
    const notes = waitingNotes(waiting);
    // In no particular order: once nothing fits, the rest wait unordered (capacity.ts).
    expect(notes.map((n) => [n.id, n.state, n.wait_reason]).sort()).toEqual([
      [3, "scheduled", "pool_full"],
      [4, "scheduled", "pool_missing"],
      [5, "scheduled", "pool_too_small"],
    ]);
    expect(notes.map((n) => n.note)).toEqual(waiting.map((w) => renderWaitReason(w.reason)));
    const written = waiting.map((w) => ({ ...w, candidate: { ...w.candidate, ti: withWaitReason(w.candidate.ti, w.reason) } }));
    expect(waitingNotes(written)).toEqual([]);
    // Same text but no kind recorded (a row from before the kind was stored): written again.
    const untyped = written.map((w) => ({ ...w, candidate: { ...w.candidate, ti: { ...w.candidate.ti, wait_reason: null } } }));
    expect(waitingNotes(untyped)).toHaveLength(3);
  });
});

describe("waitCleared: the patch when a waiting task instance moves on", () => {
  const [ti] = tis(dag([{ task_id: "a" }]), { a: "scheduled" });
  test("the scheduler's note goes", () => {
    expect(waitCleared(withWaitReason(ti!, { kind: "pool_missing", pool: "gpu" }))).toEqual({ note: null });
  });
  test("a note nobody waited on stays (dispatch_failed, a user's note)", () => {
    const failed = { ...ti!, note: "dispatch_failed: executor refused" };
    expect(waitCleared(failed)).toEqual({});
  });
});
