/**
 * The first sweep after a start (issue 18): it reads every active run in chunks and moves them in batches
 * (setDagRunStates), and the process keeps answering in between — a restart with many active runs serves
 * /health before that sweep is through. Real stores, the real planner, a dispatcher that only records.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop } from "../../src/scheduler";
import type { TaskInstanceRecord } from "../../src/domain";
import type { Store } from "../../src/store";
import { forEachStore } from "../support/stores";
import { overriding } from "../../src/store/decorate";

const RUNS = 2_500; // more than one read chunk (1,000 runs)

forEachStore((backend) => {
  describe("first sweep", () => {
    test("every active run is read, moved to running and its root queued, with the event loop turning meanwhile", async () => {
      const store = await backend.open();
      try {
        await store.migrate();
        const now = new Date("2026-01-01T00:00:00Z");
        await seed(store, now);
        const dispatched: number[] = [];
        const loop = sweepingLoop(store, now, (ti) => void dispatched.push(ti.id));
        // Turns of the event loop while the sweep runs: what a health request waiting on the process needs.
        let turns = 0;
        let sweeping = true;
        const count = () => {
          if (!sweeping) return;
          turns++;
          setImmediate(count);
        };
        setImmediate(count);
        const report = await loop.tick();
        sweeping = false;

        expect(report).toMatchObject({ runs: RUNS, dispatched: RUNS });
        expect(turns).toBeGreaterThan(2);
        const active = await store.listActiveRunIds();
        expect(active).toHaveLength(RUNS);
        const runs = await Promise.all([active[0]!, active[RUNS - 1]!].map((id) => store.getDagRunById(id)));
        expect(runs.map((r) => r?.state)).toEqual(["running", "running"]);
        const snaps = await store.loadRunSnapshots(active);
        const states = new Set(snaps.flatMap((s) => s.tis.map((t) => `${t.task_id}:${t.state}`)));
        expect([...states].sort()).toEqual(["a:queued", "b:none"]);
      } finally {
        await store.close();
      }
    }, 60_000);

    test("a chunk that fails to read fails the tick before any write, and the next sweep reads everything", async () => {
      const store = await backend.open();
      try {
        await store.migrate();
        const now = new Date("2026-01-01T00:00:00Z");
        await seed(store, now);
        // The second chunk's read fails while the first is still awaited (chunks are read one ahead).
        let reads = 0;
        const failing = overriding(store, {
          loadRunSnapshots: (ids) => (++reads === 2 ? Promise.reject(new Error("connection lost")) : store.loadRunSnapshots(ids)),
        });
        const dispatched: number[] = [];
        const loop = sweepingLoop(failing, now, (ti) => void dispatched.push(ti.id));
        await expect(loop.tick()).rejects.toThrow("connection lost");
        expect(dispatched).toEqual([]);
        const active = await store.listActiveRunIds();
        const first = await store.getDagRunById(active[0]!);
        expect(first?.state).toBe("queued");
        loop.wake(); // a failed tick leaves the next to sweep again
        expect(await loop.tick()).toMatchObject({ runs: RUNS, dispatched: RUNS });
      } finally {
        await store.close();
      }
    }, 60_000);

    test("runs of a paused DAG among the first read (beside the gates) stay queued; the others start", async () => {
      const store = await backend.open();
      try {
        await store.migrate();
        const now = new Date("2026-01-01T00:00:00Z");
        // The paused DAG's runs have the lowest ids: the read that goes beside the gates holds them.
        await seed(store, now, "paused", 600);
        await seed(store, now, "many", 1_500);
        await store.setDagPaused("default", "paused", true);
        const loop = sweepingLoop(store, now, () => {});
        expect(await loop.tick()).toMatchObject({ runs: 1_500, dispatched: 1_500 });
        const snaps = await store.loadRunSnapshots(await store.listActiveRunIds());
        const seen = new Set(snaps.map((s) => `${s.run.dag_id}:${s.run.state}:${s.tis.map((t) => `${t.task_id}=${t.state}`).join(",")}`));
        expect([...seen].sort()).toEqual(["many:running:a=queued,b=none", "paused:queued:a=none,b=none"]);
      } finally {
        await store.close();
      }
    }, 60_000);
  });

  describe("incremental sweep", () => {
    test("one whose read fails is swept again: a run another writer changed before it is still planned", async () => {
      const store = await backend.open();
      try {
        await store.migrate();
        const now = new Date("2026-01-01T00:00:00Z");
        await seed(store, now, "few", 3);
        let failing = false;
        const flaky = overriding(store, {
          loadRunSnapshots: (ids) =>
            failing ? ((failing = false), Promise.reject(new Error("connection lost"))) : store.loadRunSnapshots(ids),
        });
        const dispatched: string[] = [];
        const loop = sweepingLoop(flaky, now, (ti) => void dispatched.push(`${ti.run_id}:${ti.task_id}`));
        expect(await loop.tick()).toMatchObject({ runs: 3, dispatched: 3 }); // the first, full sweep
        // Another writer (a replica, a CLI command) ends r0's root; no wake-up reaches this loop.
        const [r0] = await store.loadRunSnapshots([(await store.listActiveRunIds())[0]!]);
        const a = r0!.tis.find((t) => t.task_id === "a")!;
        await store.applyTransitions([{ id: a.id, from: ["queued"], to: "running", try_number: 1 }], new Date(now.getTime() + 1_000));
        await store.applyTransitions([{ id: a.id, from: ["running"], to: "success", try_number: 1 }], new Date(now.getTime() + 1_000));
        failing = true;
        loop.wake(); // an incremental sweep, whose read of r0 fails
        await expect(loop.tick()).rejects.toThrow("connection lost");
        loop.wake(); // the next sweep still finds r0 changed
        await loop.tick();
        expect(dispatched).toContain(`${r0!.run.run_id}:b`);
      } finally {
        await store.close();
      }
    }, 60_000);
  });
});

/** A loop that sweeps whole (no budget, no parallelism limit) at a fixed time; `dispatch` sees each queued task. */
function sweepingLoop(store: Store, now: Date, dispatch: (ti: TaskInstanceRecord) => void): SchedulerLoop {
  return new SchedulerLoop({
    store,
    dispatcher: { dispatch: async (ti) => dispatch(ti) },
    logger: silentLogger,
    sweepIntervalMs: 3_600_000,
    tickTimeoutMs: 3_600_000,
    parallelism: 1_000_000,
    now: () => now,
  });
}

/** RUNS queued runs of a two-task chain, created 50 at a time as concurrent API calls would; default_pool unlimited. */
async function seed(store: Store, now: Date, dagId = "many", runs = RUNS): Promise<void> {
  const spec = parseDagSpec({
    dag_id: dagId,
    max_active_runs: RUNS,
    max_active_tasks: RUNS,
    tasks: [
      { task_id: "a", operator: "bash", bash_command: "true" },
      { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
    ],
  });
  const dag = await store.upsertDag("default", { spec, fileloc: `/dags/${dagId}.json`, pausedOnCreate: false, now });
  // Postgres pays a round trip per run.
  for (let from = 0; from < runs; from += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, runs - from) }, (_, k) => from + k).map((i) =>
        store.createDagRun({
          team: "default",
          dag_id: dagId,
          run_id: `r${i}`,
          run_type: "manual",
          logical_date: null,
          data_interval_start: null,
          data_interval_end: null,
          conf: {},
          version_id: dag.version_id,
          queued_at: now,
          tasks: spec.tasks.map((t) => ({
            task_id: t.task_id,
            operator: t.operator,
            max_tries: 0,
            pool: "default_pool",
            pool_slots: 1,
            priority_weight: 1,
          })),
        }),
      ),
    );
  await store.updatePool("default", "default_pool", { slots: -1 });
}
