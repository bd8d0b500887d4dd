/**
 * When the loop creates due runs (scheduler/run-creation.ts), on a fake clock over a real SQLite store: a
 * cron slot's runs are created the moment the slot is due, beside a tick still in flight rather than after
 * it, and planned by the next tick; a run's end asks for due runs again only while a DAG waits for room
 * under max_active_runs.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop, type DueRunCreator } from "../../src/scheduler/loop";
import { buildDagRun } from "../../src/scheduler/trigger";
import { openStore, type Store } from "../../src/store";
import { FakeClock } from "../support/clock";
import { overriding } from "../../src/store/decorate";

let store: Store;
beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
});
afterEach(async () => store.close());

async function addDag(clock: FakeClock) {
  const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
  return store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: clock.now() });
}

const turnOfEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("creating due runs", () => {
  test("a slot's runs are created while a tick is still in flight, then planned by the next tick", async () => {
    const clock = new FakeClock();
    const t0 = clock.now().getTime();
    const dag = await addDag(clock);
    const calls: number[] = [];
    const creator: DueRunCreator = {
      async createDueRuns(now) {
        calls.push(now.getTime() - t0);
        if (calls.length === 1) return { created: [], nextDueAt: new Date(t0 + 1_000), waitingForRoom: false };
        const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, now));
        return { created: [run.id], nextDueAt: null, waitingForRoom: false };
      },
    };
    // The tick woken below stops in its first read until the test lets it go.
    let release = () => {};
    let entered = () => {};
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    let holding = false;
    const slowGates = overriding(store, {
      loadTickReads: async (snapshotIds, gateIds, gateDags) => {
        if (holding) {
          entered();
          await new Promise<void>((resolve) => (release = resolve));
          return store.loadTickReads(snapshotIds, gateIds);
        }
        return store.loadTickReads(snapshotIds, gateIds, gateDags);
      },
    });
    const launched: TaskInstanceRecord[] = [];
    const loop = new SchedulerLoop({
      store: slowGates,
      dispatcher: { dispatch: async (ti) => void launched.push(ti) },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 8,
      clock,
      runCreator: creator,
    });
    loop.start();
    await loop.idle();
    holding = true;
    loop.wake(12345); // any run: the tick reads its gates, and waits there
    await inFlight;
    clock.advance(1_000); // the slot is due
    for (let i = 0; i < 5; i++) await turnOfEventLoop();
    expect(calls).toEqual([0, 1_000]); // created while the tick still waits
    expect(launched).toEqual([]);
    holding = false;
    release();
    await loop.idle();
    await loop.stop();
    expect(launched.map((ti) => `${ti.dag_id}/${ti.task_id}`)).toEqual(["etl/t"]);
  });

  test("a run's end asks for due runs again only while a DAG waits for room under max_active_runs", async () => {
    async function callsAfterARunEnds(waitingForRoom: boolean): Promise<number> {
      const clock = new FakeClock();
      const dag = (await store.getDag("default", "etl")) ?? (await addDag(clock));
      let calls = 0;
      let loop: SchedulerLoop;
      const reports: Promise<void>[] = [];
      loop = new SchedulerLoop({
        store,
        // An agent that finishes each task at once and tells the loop, as the RPC service would.
        dispatcher: {
          dispatch: async (ti) =>
            void reports.push(
              (async () => {
                await store.applyTransitions([{ id: ti.id, from: ["queued"], to: "success", try_number: 1 }], clock.now());
                loop.wake(ti.dag_run_id);
              })(),
            ),
        },
        logger: silentLogger,
        sweepIntervalMs: 60_000,
        parallelism: 8,
        clock,
        runCreator: { createDueRuns: async () => (calls++, { created: [], nextDueAt: null, waitingForRoom }) },
      });
      const run = await store.createDagRun(
        buildDagRun(dag, { run_id: `r_${waitingForRoom}`, run_type: "manual", logical_date: null }, clock.now()),
      );
      loop.start();
      loop.wake(run.id);
      for (let i = 0; i < 5; i++) {
        await loop.idle();
        await Promise.all(reports.splice(0));
      }
      await loop.stop();
      expect((await store.getDagRunById(run.id))!.state).toBe("success");
      return calls;
    }
    expect(await callsAfterARunEnds(false)).toBe(1); // the first sweep only
    expect(await callsAfterARunEnds(true)).toBe(2); // and after the run ended
  });
});
