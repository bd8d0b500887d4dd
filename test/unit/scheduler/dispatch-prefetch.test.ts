/**
 * DispatchStep's early capacity reads (issue 18): a tick woken by events starts the active-count and pool
 * reads alongside its snapshot read, and its dispatch decides with them; reads started for a tick that never
 * reached its dispatch (it failed) are never used by a later tick. Over an in-memory store: no I/O.
 */
import { describe, expect, test } from "bun:test";
import { teamKey, type ActiveTaskCounts, type TaskTransition } from "../../../src/domain";
import { DispatchStep, type DispatchStore } from "../../../src/scheduler/dispatch-step";
import type { TaskDispatcher } from "../../../src/dispatch";
import { silentLogger } from "../../../src/observability";
import { at, dag, run, tis } from "./helpers";

const spec = dag([{ task_id: "a" }]);

/** A store whose active count is whatever `busy` says at the moment it is read; counts the reads. */
function store() {
  const s = { busy: 0, reads: 0 };
  const port: DispatchStore = {
    async countActiveTaskInstances(): Promise<ActiveTaskCounts> {
      s.reads++;
      return { byDag: new Map(s.busy ? [[teamKey("default", "etl"), s.busy]] : []), byTeam: new Map() };
    },
    // No task here sets max_active_tis_per_dag, so the per-task count is never asked for.
    countActiveByTask: async () => {
      throw new Error("countActiveByTask read without a max_active_tis_per_dag task");
    },
    listPoolUsage: async () => [
      {
        team: "default",
        name: "default_pool",
        slots: 128,
        description: null,
        include_deferred: false,
        running_slots: 0,
        queued_slots: 0,
        scheduled_slots: 1,
        deferred_slots: 0,
      },
    ],
    applyTransitions: async (ts: TaskTransition[]) => ts.map(() => true),
  };
  return { s, port };
}

function step(port: DispatchStore) {
  const launched: string[] = [];
  const dispatcher = { dispatch: async (ti: { task_id: string }) => void launched.push(ti.task_id) } as unknown as TaskDispatcher;
  const d = new DispatchStep({
    store: port,
    dispatcher,
    logger: silentLogger,
    parallelism: 1,
    wake: () => {},
    wakeAt: () => {},
    checkpoint: () => {},
  });
  const planned = [{ snap: { run: run(), tis: tis(spec, { a: "scheduled" }) }, spec }];
  return { d, launched, dispatch: (now: Date) => d.run(planned, new Map(), { has: () => false }, now, []) };
}

describe("DispatchStep capacity reads", () => {
  test("reads prefetched for a tick are the ones its dispatch decides with, read once", async () => {
    const { s, port } = store();
    const { d, launched, dispatch } = step(port);
    const now = at(1);
    s.busy = 1; // parallelism 1 is taken when the tick starts
    d.prefetchCapacity(now);
    s.busy = 0;
    expect(await dispatch(now)).toBe(0);
    expect(launched).toEqual([]);
    expect(s.reads).toBe(1);
  });

  test("counts handed in by the tick's own read are the ones its dispatch decides with; the store is not asked again", async () => {
    const { s, port } = store();
    const { d, launched, dispatch } = step(port);
    const now = at(1);
    const full = { byDag: new Map([[teamKey("default", "etl"), 1]]), byTeam: new Map() };
    d.prefetchCapacity(now, Promise.resolve({ active: full, pools: await port.listPoolUsage() }));
    expect(await dispatch(now)).toBe(0);
    expect(launched).toEqual([]);
    expect(s.reads).toBe(0);
  });

  test("reads prefetched for a tick that failed before dispatching are not used by the next tick", async () => {
    const { s, port } = store();
    const { d, launched, dispatch } = step(port);
    s.busy = 1;
    d.prefetchCapacity(at(1)); // this tick fails before its dispatch
    s.busy = 0;
    expect(await dispatch(at(2))).toBe(1);
    expect(launched).toEqual(["a"]);
    expect(s.reads).toBe(2);
  });
});
