/**
 * DispatchStep does not check its waiting candidates again when nothing changed since the launch that left them
 * all waiting (the same candidates, the same counts), and sees a freed slot or a new candidate at once. Over an
 * in-memory store whose active count the test sets.
 */
import { describe, expect, test } from "bun:test";
import {
  renderWaitReason,
  type DagRunRecord,
  type TaskInstanceRecord,
  type TaskNoteUpdate,
  type TaskTransition,
} from "../../../src/domain";
import { silentLogger } from "../../../src/observability";
import { DispatchStep, type DispatchStore } from "../../../src/scheduler/dispatch-step";
import { at, dag, run, tis } from "./helpers";

const spec = dag(["a", "b", "c", "d"].map((task_id) => ({ task_id })));

function harness(parallelism = 2) {
  /** Task instances the store counts as queued or running (of other runs): parallelism is 2. */
  let active = 2;
  const writes: TaskTransition[] = [];
  const port: DispatchStore = {
    countActiveTaskInstances: async () => ({
      byDag: new Map([["default/other", active]]),
      byTeam: new Map([["default", { tasks: active, pool_slots: active, inline: 0 }]]),
    }),
    countActiveByTask: async () => [],
    listPoolUsage: async () => [
      {
        team: "default",
        name: "default_pool",
        slots: 128,
        include_deferred: false,
        running_slots: active,
        queued_slots: 0,
        deferred_slots: 0,
      },
    ],
    applyTransitions: async (ts: TaskTransition[]) => (writes.push(...ts), ts.map(() => true)),
  };
  const dispatched: string[] = [];
  const d = new DispatchStep({
    store: port,
    dispatcher: { dispatch: async (ti: TaskInstanceRecord) => void dispatched.push(ti.task_id) },
    logger: silentLogger,
    parallelism,
    wake: () => {},
    wakeAt: () => {},
    checkpoint: () => {},
  });
  /** A tick that planned the run with `rows` (null: a tick that did not reload it); returns what it launched and the notes. */
  const tick = async (rows: TaskInstanceRecord[] | null, now: Date) => {
    const notes: TaskNoteUpdate[] = [];
    const planned = rows ? [{ snap: { run: run() as DagRunRecord, tis: rows }, spec } as never] : [];
    const launched = await d.run(planned, new Map(), { has: () => false }, now, notes);
    return { launched, notes: notes.map((n) => n.id) };
  };
  return { tick, dispatched, writes, setActive: (n: number) => (active = n), setQuotas: d.setTeamQuotas.bind(d) };
}

describe("DispatchStep: a tick that changes nothing", () => {
  test("leaves the waiting as they are; a freed slot and a new candidate are seen at once", async () => {
    const { tick, dispatched, writes, setActive } = harness();
    const rows = tis(spec, { a: "scheduled", b: "scheduled" });
    // Parallelism is taken by other runs: both wait, each with its note.
    expect(await tick(rows, at(1))).toEqual({ launched: 0, notes: [1, 2] });
    // Nothing changed (a sweep that did not reload the run, the same counts): nothing launched, nothing written.
    expect(await tick(null, at(2))).toEqual({ launched: 0, notes: [] });
    expect(writes).toEqual([]);
    // A slot frees: the first waiting task is queued on the next tick.
    setActive(1);
    expect((await tick(null, at(4))).launched).toBe(1);
    expect(dispatched).toEqual(["a"]);
    expect(writes.map((w) => [w.id, w.to])).toEqual([[1, "queued"]]);
    // Full again, the same counts as before, but a new task is scheduled: it is checked, and waits with its note.
    setActive(2);
    // b's record as the tick reads it now, with the note written for it.
    const note = renderWaitReason({ kind: "parallelism", parallelism: 2, running: 2 });
    const next = tis(spec, { a: "queued", b: { state: "scheduled", note, wait_reason: "parallelism" }, c: "scheduled" });
    expect(await tick(next, at(5))).toEqual({ launched: 0, notes: [3] });
    // Then nothing changes again, until a slot frees.
    expect(await tick(null, at(6))).toEqual({ launched: 0, notes: [] });
    setActive(1);
    expect((await tick(null, at(7))).launched).toBe(1);
    expect(dispatched).toEqual(["a", "b"]);
  });

  test("team quotas read again unchanged leave the waiting as they are; a quota raised is seen at once", async () => {
    const { tick, dispatched, setQuotas } = harness(100);
    const quota = (max_running_tasks: number) =>
      new Map([["default", { max_running_tasks, max_pool_slots: null, max_inline_requests: null }]]);
    // The team runs 2 (other runs') of its quota of 2: both wait for the quota.
    setQuotas(quota(2));
    const rows = tis(spec, { a: "scheduled", b: "scheduled" });
    expect(await tick(rows, at(1))).toEqual({ launched: 0, notes: [1, 2] });
    // A sweep reads the teams again: the same quotas in a new map change nothing.
    setQuotas(quota(2));
    expect(await tick(null, at(2))).toEqual({ launched: 0, notes: [] });
    // Raised to 3: one more goes.
    setQuotas(quota(3));
    expect((await tick(null, at(3))).launched).toBe(1);
    expect(dispatched).toEqual(["a"]);
  });
});
