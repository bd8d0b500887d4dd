/**
 * Scheduling through the real loop, store and API, with an injected clock and ticks driven by the test (no
 * timers, no sleeps): cron runs created by the loop, max_active_runs for manual runs, paused DAGs,
 * dagrun_timeout, and a backfill created over HTTP that runs max_active_runs at a time to completion.
 * The "agent" holds every launched task until the test finishes it, as a slow real agent would.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createApi } from "../../src/api";
import { parseDagSpec } from "../../src/domain/schemas";
import type { SchedulerLoop } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { type HoldingAgent, holdingLoop } from "../support/holding-agent";
import { forEachStore } from "../support/stores";

let store: Store;
let agent: HoldingAgent;
let clock: Date;
let loop: SchedulerLoop;

forEachStore((backend) => {
  beforeEach(async () => {
    clock = new Date("2026-03-01T12:00:00Z");
    ({ store, agent, loop } = await holdingLoop(backend, () => clock, { cron: true }));
  });

  afterEach(async () => {
    await loop.stop();
    await store.close();
  });

  async function addDag(extra: Record<string, unknown>, paused = false) {
    const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }], ...extra });
    return store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: paused, now: clock });
  }

  /** A full sweep, then the follow-up ticks the running loop would take on its own (it is stopped here). */
  async function sweep(): Promise<void> {
    loop.wake();
    for (let i = 0; i < 5; i++) await loop.tick();
  }

  async function states(): Promise<string[]> {
    return (await store.listDagRuns("default", { dag_id: "etl", order_by: "id" })).items.map(
      (r) => `${r.run_id}:${r.state}${r.note ? ` (${r.note})` : ""}`,
    );
  }

  describe("scheduling through the loop", () => {
    test("cron runs are created by the sweep and run; catchup respects max_active_runs in order", async () => {
      await addDag({ schedule: "@daily", start_date: "2026-02-25T00:00:00Z", catchup: true, max_active_runs: 2 });
      await sweep();
      expect(await states()).toEqual(["scheduled__2026-02-25T00:00:00+00:00:running", "scheduled__2026-02-26T00:00:00+00:00:running"]);
      await agent.finishAll();
      await sweep();
      await sweep();
      expect(await states()).toEqual([
        "scheduled__2026-02-25T00:00:00+00:00:success",
        "scheduled__2026-02-26T00:00:00+00:00:success",
        "scheduled__2026-02-27T00:00:00+00:00:running",
        "scheduled__2026-02-28T00:00:00+00:00:running",
      ]);
    });

    test("max_active_runs holds manual runs queued, oldest starts first when a slot frees", async () => {
      await addDag({ max_active_runs: 1 });
      const dag = (await store.getDag("default", "etl"))!;
      const { buildDagRun } = await import("../../src/scheduler");
      for (const id of ["a", "b", "c"])
        await store.createDagRun(buildDagRun(dag, { run_id: id, run_type: "manual", logical_date: null }, clock));
      await sweep();
      expect(await states()).toEqual(["a:running", "b:queued", "c:queued"]);
      expect(agent.running.map((t) => t.run_id)).toEqual(["a"]);
      const a = agent.running[0]!;
      await agent.finishAll();
      // The agent's report wakes run a (as the RPC service does); its end wakes the DAG's held runs, no full sweep.
      loop.wake(a.dag_run_id);
      for (let i = 0; i < 5; i++) await loop.tick();
      expect(await states()).toEqual(["a:success", "b:running", "c:queued"]);
    });

    test("a paused DAG creates no runs and its running run schedules nothing new until unpaused", async () => {
      const spec = parseDagSpec({
        dag_id: "etl",
        schedule: "@daily",
        start_date: "2026-02-27T00:00:00Z",
        tasks: [
          { task_id: "a", operator: "bash", bash_command: "true" },
          { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
        ],
      });
      await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: clock });
      await sweep();
      expect(agent.running.map((t) => t.task_id)).toEqual(["a"]);
      await store.setDagPaused("default", "etl", true);
      await agent.finishAll();
      clock = new Date("2026-03-03T12:00:00Z"); // two more slots pass while paused
      await sweep();
      expect(agent.running).toEqual([]);
      expect(await states()).toEqual(["scheduled__2026-02-28T00:00:00+00:00:running"]);
      const b = await store.getTaskInstance("default", "etl", "scheduled__2026-02-28T00:00:00+00:00", "b");
      expect(b!.state).toBe("none");
      await store.setDagPaused("default", "etl", false);
      await sweep();
      expect(agent.running.map((t) => `${t.run_id}/${t.task_id}`).sort()).toEqual([
        "scheduled__2026-02-28T00:00:00+00:00/b",
        "scheduled__2026-03-02T00:00:00+00:00/a",
      ]);
    });

    test("dagrun_timeout fails the run and its running task, and skips what had not started", async () => {
      const spec = parseDagSpec({
        dag_id: "etl",
        dagrun_timeout: 30,
        tasks: [
          { task_id: "slow", operator: "bash", bash_command: "sleep 100" },
          { task_id: "after", operator: "bash", bash_command: "true", upstream: ["slow"] },
        ],
      });
      const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: clock });
      const { buildDagRun } = await import("../../src/scheduler");
      await store.createDagRun(buildDagRun(dag, { run_id: "r", run_type: "manual", logical_date: null }, clock));
      await sweep();
      clock = new Date(clock.getTime() + 29_000);
      await sweep();
      expect(await states()).toEqual(["r:running"]);
      clock = new Date(clock.getTime() + 1_000);
      await sweep();
      expect(await states()).toEqual(["r:failed (dagrun_timeout (30s) exceeded)"]);
      const tis = (await store.listTaskInstances("default", "etl", "r")).items.map((t) => [t.task_id, t.state, t.note]);
      expect(tis).toEqual([
        ["slow", "failed", "dagrun_timeout (30s) exceeded"],
        ["after", "skipped", "dagrun_timeout (30s) exceeded"],
      ]);
    });
  });

  describe("a backfill through the API", () => {
    test("runs its slots max_active_runs at a time, oldest first, and completes", async () => {
      await addDag({ schedule: "@daily", start_date: "2026-01-01T00:00:00Z" });
      const api = createApi({
        store,
        tokens: null,
        version: "test",
        scheduler: { wake: (id) => loop.wake(id), health: () => loop.health() },
        now: () => clock,
      });
      const res = await api.request("/api/v2/backfills", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dag_id: "etl", from_date: "2026-02-01", to_date: "2026-02-05", max_active_runs: 2 }),
      });
      expect(res.status).toBe(200);
      const backfill = (await res.json()) as { id: number };
      const maxRunning: number[] = [];
      for (let round = 0; round < 5; round++) {
        await sweep();
        maxRunning.push(agent.running.filter((t) => t.run_id.startsWith("backfill")).length);
        await agent.finishAll();
      }
      expect(maxRunning).toEqual([2, 2, 1, 0, 0]);
      // The catchup=false schedule also created its latest slot alongside the backfill.
      expect((await states()).filter((s) => s.startsWith("backfill"))).toEqual(
        ["01", "02", "03", "04", "05"].map((d) => `backfill__2026-02-${d}T00:00:00+00:00:success`),
      );
      const got = (await (await api.request(`/api/v2/backfills/${backfill.id}`)).json()) as { completed_at: string | null };
      expect(got.completed_at).toBe("2026-03-01T12:00:00.000Z");
    });
  });
});
