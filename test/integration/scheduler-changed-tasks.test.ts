/**
 * A large run held between ticks is planned from its changes only (LiveSnapshots.changedTasks). A tick that
 * fails after planning, before its writes are done, must leave those changes to the next plan: here the
 * write that schedules `y` (after `x` succeeded) fails once, later ticks are woken only by other tasks of the
 * run finishing, and no sweep comes (the sweep interval is a minute and time does not move). On both stores.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { openStore, type Store } from "../../src/store";
import type { TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { SchedulerLoop } from "../../src/scheduler/loop";
import { LIVE_SNAPSHOT_MIN_TASKS } from "../../src/scheduler/live-snapshots";
import { FULL_SWEEP_EVERY } from "../../src/scheduler/run-selection";
import { buildDagRun } from "../../src/scheduler/trigger";
import { silentLogger } from "../../src/observability";
import { FakeClock } from "../support/clock";
import { forEachStore } from "../support/stores";
import { overriding } from "../../src/store/decorate";

const FAN = LIVE_SNAPSHOT_MIN_TASKS + 6;

let store: Store | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

async function failedTickThenChanges(s: Store) {
  const clock = new FakeClock();
  const spec = parseDagSpec({
    dag_id: "held_fan",
    tasks: [
      // Dispatched first, so `y` becomes due while most of the fan still runs and wakes the loop.
      { task_id: "x", operator: "bash", bash_command: "true", priority_weight: 1000 },
      { task_id: "y", operator: "bash", bash_command: "true", upstream: ["x"] },
      ...Array.from({ length: FAN }, (_, i) => ({ task_id: `f${i}`, operator: "bash", bash_command: "true" })),
    ],
  });
  const dag = await s.upsertDag("default", { spec, fileloc: "/dags/held_fan.json", pausedOnCreate: false, now: clock.now() });
  const run = await s.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, clock.now()));
  const tis = (await s.listTaskInstances("default", "held_fan", run.run_id, { limit: 1000 })).items;
  const yId = tis.find((t) => t.task_id === "y")!.id;
  let failures = 0;
  // The loop's store: the first write scheduling `y` fails (a dropped connection, say).
  const flaky = overriding(s, {
    applyTransitions: async (ts, now) => {
      if (!failures && ts.some((t) => t.id === yId && t.to === "scheduled")) {
        failures++;
        throw new Error("connection dropped");
      }
      return s.applyTransitions(ts, now);
    },
  });
  const launched: string[] = [];
  const running: TaskInstanceRecord[] = [];
  let loop: SchedulerLoop;
  // An agent whose tries finish one at a time, each reported through the real store and waking the loop as
  // the RPC service would: ticks keep coming while the fan runs.
  const agent = {
    async dispatch(ti: TaskInstanceRecord): Promise<void> {
      launched.push(ti.task_id);
      running.push(ti);
    },
  };
  loop = new SchedulerLoop({ store: flaky, dispatcher: agent, logger: silentLogger, sweepIntervalMs: 60_000, parallelism: 4, clock });
  loop.start();
  loop.wake(run.id);
  for (;;) {
    await loop.idle();
    const ti = running.shift();
    if (!ti) break;
    const now = clock.now();
    await s.applyTransitions([{ id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number, patch: { start_date: now } }], now);
    await s.applyTransitions([{ id: ti.id, from: ["running"], to: "success", try_number: ti.try_number, patch: { end_date: now } }], now);
    loop.wake(ti.dag_run_id);
  }
  await loop.stop();
  return { failures, launched, run: (await s.getDagRunById(run.id))! };
}

forEachStore((backend) => {
  test(`${backend.name}: a tick that failed before its writes leaves its changes to the next plan`, async () => {
    store = await backend.open();
    await store.migrate();
    const { failures, launched, run } = await failedTickThenChanges(store);
    expect(failures).toBe(1);
    expect(run.state).toBe("success");
    expect(launched.filter((t) => t === "y")).toEqual(["y"]);
    expect(launched.length).toBe(FAN + 2);
  });
});

describe("SchedulerLoop sweeps over a held run", () => {
  test("an incremental sweep refreshes it by its changes and still catches a missed wake-up; a full sweep reads it all", async () => {
    store = openStore("sqlite::memory:");
    await store.migrate();
    const s = store;
    const clock = new FakeClock("2026-11-01T00:00:00Z");
    const spec = parseDagSpec({
      dag_id: "held_quiet",
      tasks: [
        { task_id: "a", operator: "bash", bash_command: "true" },
        { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
        ...Array.from({ length: FAN }, (_, i) => ({ task_id: `f${i}`, operator: "bash", bash_command: "true", upstream: ["b"] })),
      ],
    });
    const dag = await s.upsertDag("default", { spec, fileloc: "/dags/held_quiet.json", pausedOnCreate: false, now: clock.now() });
    await s.createDagRun(buildDagRun(dag, { run_id: "r1", run_type: "manual", logical_date: null }, clock.now()));
    const reads: string[] = [];
    const counting = new Proxy(s, {
      get(target, key, receiver) {
        if (key === "loadRunSnapshots" || key === "loadRunChanges") reads.push(key);
        const v = Reflect.get(target, key, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const launched: string[] = [];
    const loop = new SchedulerLoop({
      store: counting,
      dispatcher: { dispatch: async (ti) => void launched.push(ti.task_id) },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 100,
      clock,
    });
    loop.wake();
    await loop.tick(); // the first sweep: full
    expect(launched).toEqual(["a"]);
    expect(reads).toEqual(["loadRunSnapshots"]);

    // Another replica finishes `a`, and its wake-up never arrives here: the next (incremental) sweep finds it.
    clock.advance(10_000);
    const a = (await s.getTaskInstance("default", "held_quiet", "r1", "a"))!;
    await s.applyTransitions([{ id: a.id, from: ["queued"], to: "running", try_number: 1 }], clock.now());
    await s.applyTransitions([{ id: a.id, from: ["running"], to: "success", try_number: 1 }], clock.now());
    clock.advance(1_000);
    reads.length = 0;
    loop.wake();
    await loop.tick();
    expect(launched).toEqual(["a", "b"]);
    expect(reads).toEqual(["loadRunChanges"]);

    // The sweep after FULL_SWEEP_EVERY incremental ones reads the held run in full again.
    for (let i = 1; i < FULL_SWEEP_EVERY; i++) {
      clock.advance(1_000);
      loop.wake();
      await loop.tick();
    }
    reads.length = 0;
    clock.advance(1_000);
    loop.wake();
    await loop.tick();
    expect(reads).toEqual(["loadRunSnapshots"]);
  });
});
