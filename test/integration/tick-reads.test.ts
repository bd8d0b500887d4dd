/**
 * A tick woken by a task's end (the hop from an upstream to its downstream) reads the store once before it
 * writes: its runs, their gates and the dispatch capacity in one loadTickReads (one statement on Postgres),
 * not one read each. On a fake clock over a real SQLite store; the store contract checks that loadTickReads
 * answers what the separate reads answer, on both stores.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import type { TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop } from "../../src/scheduler/loop";
import { buildDagRun } from "../../src/scheduler/trigger";
import { openStore, type Store } from "../../src/store";
import { FakeClock } from "../support/clock";

let store: Store;
beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
});
afterEach(async () => store.close());

test("a woken tick reads its runs, their gates and the capacity in one store call, then starts the downstream", async () => {
  const clock = new FakeClock();
  const spec = parseDagSpec({
    dag_id: "hop",
    tasks: [
      { task_id: "a", operator: "bash", bash_command: "true" },
      { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
    ],
  });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/hop.json", pausedOnCreate: false, now: clock.now() });
  const calls: string[] = [];
  const counted = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => (calls.push(String(key)), value.apply(target, args));
    },
  });
  const launched: TaskInstanceRecord[] = [];
  const loop = new SchedulerLoop({
    store: counted,
    dispatcher: { dispatch: async (ti) => void launched.push(ti) },
    logger: silentLogger,
    sweepIntervalMs: 60_000,
    parallelism: 8,
    clock,
  });
  loop.start();
  await loop.idle();
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, clock.now()));
  loop.wake(run.id);
  await loop.idle();
  expect(launched.map((ti) => ti.task_id)).toEqual(["a"]);
  await store.applyTransitions([{ id: launched[0]!.id, from: ["queued"], to: "success", try_number: 1 }], clock.now());

  calls.length = 0;
  loop.wake(run.id); // a's end, as the agent RPC reports it
  await loop.idle();
  await loop.stop();
  expect(launched.map((ti) => ti.task_id)).toEqual(["a", "b"]);
  const reads = ["loadTickReads", "loadRunSnapshots", "loadRunChanges", "loadRunGates", "countActiveTaskInstances", "listPoolUsage"];
  expect(calls.filter((c) => reads.includes(c))).toEqual(["loadTickReads"]);
});
