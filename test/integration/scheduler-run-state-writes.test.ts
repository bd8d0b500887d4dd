/**
 * When the loop writes run state changes against its task writes (issue 18): runs that start are written
 * beside the task writes (a first sweep starts thousands; on Postgres that write no longer waits in line),
 * and the tick ends only once they applied; runs that end are written after the writes that end their tasks.
 * Real stores and planner; the store is watched to see which write is in flight when another starts.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { forEachStore } from "../support/stores";
import { overriding } from "../../src/store/decorate";

const T0 = new Date("2026-01-01T00:00:00Z");
const RUNS = 3;

forEachStore((backend) => {
  describe("run state writes of a tick", () => {
    test("runs that start are written while their tasks are queued and dispatched; the tick returns with them running", async () => {
      const store = await backend.open();
      try {
        await store.migrate();
        await seed(store);
        const watched = watch(store, true);
        const dispatched: number[] = [];
        const loop = newLoop(watched.store, dispatched, () => T0);

        expect(await loop.tick()).toMatchObject({ runs: RUNS, dispatched: RUNS });

        expect(watched.log).toContain("task write while a run write is in flight");
        const runs = await Promise.all((await store.listActiveRunIds()).map((id) => store.getDagRunById(id)));
        expect(runs.map((r) => r?.state)).toEqual(Array(RUNS).fill("running"));
        const snaps = await store.loadRunSnapshots(runs.map((r) => r!.id));
        expect(snaps.flatMap((s) => s.tis.map((t) => `${t.task_id}:${t.state}`)).sort()).toEqual([
          ...Array(RUNS).fill("a:queued"),
          ...Array(RUNS).fill("b:none"),
        ]);
      } finally {
        await store.close();
      }
    });

    test("runs that end (dagrun_timeout) are written after the writes that end their tasks", async () => {
      const store = await backend.open();
      try {
        await store.migrate();
        await seed(store, 60);
        let now = T0;
        const watched = watch(store, false);
        const loop = newLoop(watched.store, [], () => now);
        await loop.tick(); // the runs start, their roots are queued
        watched.log.length = 0;
        now = new Date(T0.getTime() + 120_000);
        loop.wake();
        await loop.tick();

        expect(watched.log).toEqual(["task write done", "run write: failed"]);
        const runs = await Promise.all((await store.listActiveRunIds()).map((id) => store.getDagRunById(id)));
        expect(runs).toEqual([]);
      } finally {
        await store.close();
      }
    });
  });
});

function newLoop(store: Store, dispatched: number[], now: () => Date): SchedulerLoop {
  return new SchedulerLoop({
    store,
    dispatcher: { dispatch: async (ti) => void dispatched.push(ti.id) },
    logger: silentLogger,
    sweepIntervalMs: 3_600_000,
    tickTimeoutMs: 3_600_000,
    parallelism: 1_000,
    now,
  });
}

/**
 * The store, with a log of its task and run state writes. With `hold`, a run state write is held until a
 * task write starts, so one that comes while it is in flight shows whatever the store's speed; a loop that
 * awaits the run write before its task writes never shows one (the hold then ends after 5 s: the test fails).
 */
function watch(store: Store, hold: boolean): { store: Store; log: string[] } {
  const log: string[] = [];
  let inFlight = 0;
  let release: (() => void) | null = null;
  const held = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      release = () => (clearTimeout(timer), resolve());
    });
  const watched = overriding(store, {
    setDagRunStates: async (changes, at) => {
      log.push(...new Set(changes.map((c) => `run write: ${c.to}`)));
      inFlight++;
      try {
        if (hold) await held();
        return await store.setDagRunStates(changes, at);
      } finally {
        inFlight--;
      }
    },
    applyTransitions: async (transitions, at) => {
      if (inFlight) log.push("task write while a run write is in flight");
      release?.();
      const applied = await store.applyTransitions(transitions, at);
      log.push("task write done");
      return applied;
    },
  });
  return { store: watched, log };
}

/** RUNS queued runs of a two-task chain (a → b), with a dagrun_timeout when given. */
async function seed(store: Store, dagrunTimeout?: number): Promise<void> {
  const spec = parseDagSpec({
    dag_id: "starts",
    ...(dagrunTimeout ? { dagrun_timeout: dagrunTimeout } : {}),
    tasks: [
      { task_id: "a", operator: "bash", bash_command: "true" },
      { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
    ],
  });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/starts.json", pausedOnCreate: false, now: T0 });
  for (let i = 0; i < RUNS; i++)
    await store.createDagRun({
      team: "default",
      dag_id: "starts",
      run_id: `r${i}`,
      run_type: "manual",
      logical_date: null,
      data_interval_start: null,
      data_interval_end: null,
      conf: {},
      version_id: dag.version_id,
      queued_at: T0,
      tasks: spec.tasks.map((t) => ({
        task_id: t.task_id,
        operator: t.operator,
        max_tries: 0,
        pool: "default_pool",
        pool_slots: 1,
        priority_weight: 1,
      })),
    });
}
