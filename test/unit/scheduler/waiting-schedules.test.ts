import { describe, expect, test } from "bun:test";
import type { TaskTransition } from "../../../src/domain";
import { WaitingSchedules } from "../../../src/scheduler/waiting-schedules";

const sched = (id: number): TaskTransition => ({ id, from: ["none"], to: "scheduled", patch: { note: "waiting" } });
const unwrittenOf = (ids: number[]) => new Map(ids.map((id) => [id, sched(id)]));

describe("WaitingSchedules", () => {
  test("takes the waiting ones only, the refill queue's order first, and leaves the others unwritten", () => {
    const unwritten = unwrittenOf([1, 2, 3, 4, 5, 6]);
    const w = new WaitingSchedules();
    // 2 was chosen to start (not waiting); the queue names 5, 3 and 9 (9 has no schedule to write).
    w.take(unwritten, [5, 3, 9], (id) => id !== 2);
    expect([...unwritten.keys()]).toEqual([2]);
    expect([1, 3, 4, 5, 6].every((id) => w.has(id))).toBe(true);
    expect(w.has(2)).toBe(false);
  });

  test("writes in that order, in chunks up to the limit; each row is reported and stops being in flight once written", async () => {
    const w = new WaitingSchedules();
    w.take(unwrittenOf([1, 2, 3, 4, 5, 6, 7]), [6, 7], () => true);
    const writes: number[][] = [];
    const reported: [number, boolean][] = [];
    const apply = async (ts: TaskTransition[]) => {
      writes.push(ts.map((t) => t.id));
      return ts.map((t) => t.id !== 3); // 3 moved on meanwhile: its write does not apply
    };
    await w.write(apply, (t, applied) => reported.push([t.id, applied]), 3, 2);
    expect(writes).toEqual([[6, 7], [1]]);
    expect(w.has(6) || w.has(7) || w.has(1)).toBe(false);
    expect(w.has(2)).toBe(true);
    await w.write(apply, (t, applied) => reported.push([t.id, applied]), Number.POSITIVE_INFINITY, 2);
    expect(writes).toEqual([[6, 7], [1], [2, 3], [4, 5]]);
    expect(reported).toEqual([
      [6, true],
      [7, true],
      [1, true],
      [2, true],
      [3, false],
      [4, true],
      [5, true],
    ]);
    expect([1, 2, 3, 4, 5, 6, 7].some((id) => w.has(id))).toBe(false);
  });

  test("a write that fails leaves its rows and the rest taken until abandoned", async () => {
    const w = new WaitingSchedules();
    w.take(unwrittenOf([1, 2, 3]), [], () => true);
    const failing = async (): Promise<boolean[]> => {
      throw new Error("database is locked");
    };
    await expect(w.write(failing, () => {}, Number.POSITIVE_INFINITY, 2)).rejects.toThrow("database is locked");
    expect(w.has(1) && w.has(3)).toBe(true);
    expect(w.abandon().sort()).toEqual([1, 2, 3]);
    expect(w.has(1)).toBe(false);
    let calls = 0;
    await w.write(
      async (ts) => (calls++, ts.map(() => true)),
      () => {},
      Number.POSITIVE_INFINITY,
      2,
    );
    expect(calls).toBe(0);
  });
});
