/**
 * A trigger's run_after (Airflow 3): the run is created queued and the scheduler starts it no earlier, woken by a
 * timer at that moment rather than by a sweep; meanwhile it holds no max_active_runs slot, and the API shows the
 * run_after it was given (and lists, filters and sorts by it). Through the API, the real loop and store, with a
 * FakeClock: time moves when the test moves it.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createApi } from "../../src/api";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { FakeClock } from "../support/clock";
import { forEachStore } from "../support/stores";

let store: Store;
let clock: FakeClock;
let loop: SchedulerLoop;
let launched: string[];

forEachStore((backend) => {
  beforeEach(async () => {
    store = await backend.open();
    await store.migrate();
    clock = new FakeClock("2026-03-01T12:00:00Z");
    launched = [];
    loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async (ti) => void launched.push(ti.run_id) },
      logger: silentLogger,
      // Far off: only the run_after timer can start the held run in this test.
      sweepIntervalMs: 3_600_000,
      parallelism: 64,
      clock,
    });
    const spec = parseDagSpec({ dag_id: "etl", max_active_runs: 1, tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
    await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: clock.now() });
    loop.start();
    await loop.idle();
  });

  afterEach(async () => {
    await loop.stop();
    await store.close();
  });

  const api = () =>
    createApi({
      store,
      tokens: null,
      version: "test",
      scheduler: { wake: (id) => loop.wake(id), health: () => loop.health() },
      now: () => clock.now(),
    });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await api().request(path, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const state = async (runId: string) => (await call("GET", `/api/v2/dags/etl/dagRuns/${runId}`)).body.state;
  /** Moves the clock by `ms`, firing the timers due on the way, and lets the loop finish what they started. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await loop.idle();
  };

  test("a run triggered with run_after stays queued, holding no slot, and starts when it comes", async () => {
    const later = new Date(clock.now().getTime() + 60_000).toISOString();
    const held = await call("POST", "/api/v2/dags/etl/dagRuns", { dag_run_id: "later", logical_date: null, run_after: later });
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ state: "queued", run_after: later });
    // Triggered after it, without run_after: it starts now, max_active_runs=1 notwithstanding the held run.
    expect((await call("POST", "/api/v2/dags/etl/dagRuns", { dag_run_id: "now", logical_date: null })).status).toBe(200);
    await loop.idle();
    expect(launched).toEqual(["now"]);
    expect(await state("later")).toBe("queued");

    await call("PATCH", "/api/v2/dags/etl/dagRuns/now", { state: "success" });
    await advance(59_000);
    expect(await state("later")).toBe("queued");
    await advance(1_000);
    expect(await state("later")).toBe("running");
    expect(launched).toEqual(["now", "later"]);
    const started = (await call("GET", "/api/v2/dags/etl/dagRuns/later")).body;
    expect(started.start_date).toBe(later);
    expect(started.run_after).toBe(later);
  });

  test("run_after in the past starts the run at once; lists filter and sort by the run_after shown", async () => {
    const past = new Date(clock.now().getTime() - 3_600_000).toISOString();
    const later = new Date(clock.now().getTime() + 3_600_000).toISOString();
    expect((await call("POST", "/api/v2/dags/etl/dagRuns", { dag_run_id: "past", logical_date: null, run_after: past })).status).toBe(200);
    await loop.idle();
    expect(launched).toEqual(["past"]);
    expect((await call("POST", "/api/v2/dags/etl/dagRuns", { dag_run_id: "later", logical_date: null, run_after: later })).status).toBe(
      200,
    );

    const ids = async (query: string) =>
      ((await call("GET", `/api/v2/dags/etl/dagRuns?${query}`)).body.dag_runs as { dag_run_id: string }[]).map((r) => r.dag_run_id);
    expect(await ids(`run_after_gte=${encodeURIComponent(clock.now().toISOString())}`)).toEqual(["later"]);
    expect(await ids(`run_after_lt=${encodeURIComponent(clock.now().toISOString())}`)).toEqual(["past"]);
    expect(await ids("order_by=-run_after")).toEqual(["later", "past"]);
    expect(await ids("order_by=run_after")).toEqual(["past", "later"]);
  });
});
