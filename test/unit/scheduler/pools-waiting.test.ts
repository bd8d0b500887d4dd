/** Pool accounting for the dispatcher (poolLimits) and the waiting notes the loop writes. */
import { describe, expect, test } from "bun:test";
import { isWaitingNote, poolLimits, selectDispatchable, waitingNotes, type DispatchCandidate } from "../../../src/scheduler";
import type { PoolRecord } from "../../../src/store";
import { T0, dag, tis } from "./helpers";

const pool = (name: string, slots: number, running = 0, queued = 0, scheduled = 0): PoolRecord => ({
  name, slots, description: null, include_deferred: false, running_slots: running, queued_slots: queued, scheduled_slots: scheduled,
});

describe("poolLimits", () => {
  test.each([
    ["empty pool: all slots open", [pool("p", 4)], 4, 4],
    ["running and queued occupy; scheduled does not", [pool("p", 4, 1, 2, 5)], 1, 4],
    ["over-full after the pool shrank: negative open", [pool("p", 2, 3)], -1, 2],
    ["-1 means unlimited", [pool("p", -1, 100)], Infinity, Infinity],
  ] as const)("%s", (_name, pools, open, total) => {
    const limits = poolLimits(pools);
    expect(limits.poolOpenSlots.get("p")).toBe(open);
    expect(limits.poolTotalSlots.get("p")).toBe(total);
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
  const cands: DispatchCandidate[] = tis(spec, { a: "scheduled", b: "scheduled", c: "scheduled", d: "scheduled", big: "scheduled" }).map((ti) => ({
    ti,
    runQueuedAt: T0,
    maxActiveTasks: 100,
  }));
  const select = (pools: PoolRecord[]) =>
    selectDispatchable(cands, { parallelism: 32, running: 0, runningByDag: new Map(), ...poolLimits(pools) });

  test("a pool of 2 takes the two highest priorities; the rest wait with reasons a user can act on", () => {
    const { dispatch, waiting } = select([pool("gpu", 2)]);
    expect(dispatch.map((c) => c.ti.task_id)).toEqual(["a", "b"]);
    expect(Object.fromEntries(waiting.map((w) => [w.candidate.ti.task_id, w.reason]))).toEqual({
      c: "waiting for a slot in pool gpu (0 of 2 open)",
      big: "task needs 5 slots but pool gpu has only 2; lower pool_slots or enlarge the pool",
      d: "pool missing does not exist; create it with POST /api/v2/pools or set the task's pool to an existing one",
    });
  });

  test("slots already running count against the pool", () => {
    const { dispatch } = select([pool("gpu", 2, 1, 0)]);
    expect(dispatch.map((c) => c.ti.task_id)).toEqual(["a"]);
  });

  test("every waiting reason is a waiting note; the notes are written only when they change", () => {
    const { waiting } = select([pool("gpu", 2)]);
    expect(waiting.every((w) => isWaitingNote(w.reason))).toBe(true);
    const notes = waitingNotes(waiting);
    expect(notes.map((n) => [n.id, n.state])).toEqual(waiting.map((w) => [w.candidate.ti.id, "scheduled"]));
    const unchanged = waiting.map((w) => ({ ...w, candidate: { ...w.candidate, ti: { ...w.candidate.ti, note: w.reason } } }));
    expect(waitingNotes(unchanged)).toEqual([]);
  });
});

describe("isWaitingNote", () => {
  test.each([
    ["parallelism (32) reached: 32 task instances queued or running", true],
    ["max_active_tasks (16) reached for DAG etl", true],
    ["waiting for 2 slots in pool gpu (1 of 4 open)", true],
    ["depends_on_past: waiting for load in the previous run r (failed) …", true],
    ["dispatch_failed: executor refused", false],
    ["agent_lost", false],
    ["pool party tonight", false],
  ])("%s → %p", (note, expected) => {
    expect(isWaitingNote(note)).toBe(expected);
  });
  test("null is no note", () => expect(isWaitingNote(null)).toBe(false));
});
