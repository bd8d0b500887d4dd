/**
 * DispatchStep keeps a waiting candidate between ticks while its task instance record is unchanged (a large
 * fan-out rebuilt thousands per tick), but what it launches is always the tick's own: the run's fresh row,
 * and a task instance record that changed (a new try) is taken as it now is. Over an in-memory store.
 */
import { describe, expect, test } from "bun:test";
import { renderWaitReason, type DagRunRecord, type TaskInstanceRecord, type TaskTransition } from "../../../src/domain";
import { DispatchStep, type DispatchStore, type InlineStarter } from "../../../src/scheduler/dispatch-step";
import { silentLogger } from "../../../src/observability";
import { at, dag, run, tis } from "./helpers";

const spec = dag(["a", "b", "c"].map((task_id) => ({ task_id, operator: "http", http: { url: "http://127.0.0.1:1/" } })));

function harness() {
  const port: DispatchStore = {
    countActiveTaskInstances: async () => ({ byDag: new Map(), byTeam: new Map() }),
    countActiveByTask: async () => [],
    listPoolUsage: async () => [
      { team: "default", name: "default_pool", slots: 128, include_deferred: false, running_slots: 0, queued_slots: 0, deferred_slots: 0 },
    ],
    applyTransitions: async (ts: TaskTransition[]) => ts.map(() => true),
  };
  const starts: { task: string; try: number; conf: unknown }[] = [];
  const inline: InlineStarter = {
    accepts: () => true,
    start: async (ti: TaskInstanceRecord, r: DagRunRecord) => (
      starts.push({ task: ti.task_id, try: ti.try_number, conf: r.conf }), "started"
    ),
  };
  // Parallelism 1: one start per tick, the others wait in memory.
  const d = new DispatchStep({
    store: port,
    dispatcher: {} as never,
    logger: silentLogger,
    parallelism: 1,
    inline,
    wake: () => {},
    wakeAt: () => {},
    checkpoint: () => {},
  });
  const tick = (rows: TaskInstanceRecord[], r: DagRunRecord, now: Date) =>
    d.run([{ snap: { run: r, tis: rows }, spec } as never], new Map(), { has: () => false }, now, []);
  return { starts, tick };
}

/** Scheduled, with the note a candidate waiting behind parallelism 1 has once written (as a held run's rows have it). */
const waiting = {
  state: "scheduled" as const,
  note: renderWaitReason({ kind: "parallelism", parallelism: 1, running: 1 }),
  wait_reason: "parallelism" as const,
};

/** The rows as the next tick reads them: `taskId` running (a new record), every other record the same object. */
const started = (rows: TaskInstanceRecord[], taskId: string) =>
  rows.map((ti) => (ti.task_id === taskId ? { ...ti, state: "running" as const } : ti));

describe("DispatchStep: candidates waiting between ticks", () => {
  test("a candidate kept from the previous tick starts with the run's fresh row", async () => {
    const { starts, tick } = harness();
    const rows = tis(spec, { a: "scheduled", b: waiting, c: waiting });
    expect(await tick(rows, { ...run(), conf: { n: 1 } }, at(1))).toBe(1);
    expect(await tick(started(rows, "a"), { ...run(), conf: { n: 2 } }, at(2))).toBe(1);
    expect(starts.map((s) => [s.task, s.conf])).toEqual([
      ["a", { n: 1 }],
      ["b", { n: 2 }],
    ]);
  });

  test("a waiting task instance whose record changed (a new try) is launched as it now is", async () => {
    const { starts, tick } = harness();
    const rows = tis(spec, { a: "scheduled", b: waiting, c: waiting });
    await tick(rows, run(), at(1));
    const retried = started(rows, "a").map((ti) => (ti.task_id === "b" ? { ...ti, try_number: 2 } : ti));
    await tick(retried, run(), at(2));
    expect(starts.map((s) => [s.task, s.try])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });
});
