/**
 * The loop under leadership: a replica whose guard says it no longer leads does not tick (its reads may go
 * out beside the guard, its writes wait for it), and a tick in flight when the loop is stopped (a step-down)
 * gives up before writing, logged at WARN as expected.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import { openStore, type Store } from "../../../src/store";
import { SchedulerLoop, buildDagRun } from "../../../src/scheduler";
import type { Logger } from "../../../src/observability";
import { FakeClock } from "../../support/clock";
import { overriding } from "../../../src/store/decorate";

const T0 = new Date("2026-01-01T00:00:00Z");
let store: Store;
beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
});
afterEach(async () => store.close());

function recordingLogger(lines: string[]): Logger {
  const log = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  const l: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"), child: () => l };
  return l;
}

async function oneRun(s: Store) {
  const spec = parseDagSpec({ dag_id: "d", tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });
  const dag = await s.upsertDag("default", { spec, fileloc: "/dags/d.json", pausedOnCreate: false, now: T0 });
  return s.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, T0));
}

describe("SchedulerLoop with a leader guard", () => {
  test("a replica that lost the lock skips the tick: nothing is planned or launched", async () => {
    const run = await oneRun(store);
    const launched: string[] = [];
    let asked!: () => void;
    const guardAsked = new Promise<void>((r) => (asked = r));
    const loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async (ti) => void launched.push(ti.task_id) },
      logger: recordingLogger([]),
      sweepIntervalMs: 60_000,
      parallelism: 4,
      clock: new FakeClock(T0),
      leaderGuard: async () => (asked(), false),
    });
    loop.start();
    await guardAsked;
    await loop.stop();
    expect(launched).toEqual([]);
    expect((await store.loadRunSnapshots([run.id]))[0]!.tis.map((t) => t.state)).toEqual(["none"]);
  });

  test("stopping during a tick cancels it before it writes, at WARN", async () => {
    const run = await oneRun(store);
    const lines: string[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inSnapshots = new Promise<void>((r) => (entered = r));
    // The store answers the snapshot read only once the test has stopped the loop.
    const slow = overriding(store, {
      loadRunSnapshots: async (ids) => {
        entered();
        await blocked;
        return store.loadRunSnapshots(ids);
      },
    });
    const loop = new SchedulerLoop({
      store: slow,
      dispatcher: { dispatch: async () => {} },
      logger: recordingLogger(lines),
      sweepIntervalMs: 60_000,
      parallelism: 4,
      clock: new FakeClock(T0),
    });
    loop.start();
    await inSnapshots;
    const stopping = loop.stop();
    release();
    await stopping;
    expect((await store.loadRunSnapshots([run.id]))[0]!.tis.map((t) => t.state)).toEqual(["none"]);
    expect(lines).toContain("warn tick cancelled: the scheduler is stepping down or stopping (expected)");
    expect(lines.filter((l) => l.startsWith("error"))).toEqual([]);
  });

  test("an event tick reads while the guard is asked and writes only once it answers; a false answer writes nothing", async () => {
    const spec = parseDagSpec({
      dag_id: "d",
      tasks: [
        { task_id: "a", operator: "bash", bash_command: "true" },
        { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
      ],
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/d.json", pausedOnCreate: false, now: T0 });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, T0));
    let read!: () => void;
    const snapshotRead = new Promise<void>((r) => (read = r));
    const watched = overriding(store, { loadRunSnapshots: async (ids) => (read(), store.loadRunSnapshots(ids)) });
    const loop = new SchedulerLoop({
      store: watched,
      dispatcher: { dispatch: async () => {} },
      logger: recordingLogger([]),
      sweepIntervalMs: 60_000,
      parallelism: 4,
      clock: new FakeClock(T0),
    });
    const tis = async () => (await store.loadRunSnapshots([run.id]))[0]!.tis.sort((x, y) => x.task_id.localeCompare(y.task_id));
    const states = async () => (await tis()).map((t) => t.state);
    await loop.tick(Promise.resolve(true)); // the first tick sweeps: it waits for the guard before anything
    const [a] = await tis();
    await store.applyTransitions([{ id: a!.id, from: ["queued"], to: "success", try_number: 1 }], T0);
    loop.wake(run.id);
    let answer!: (leading: boolean) => void;
    const ticking = loop.tick(new Promise<boolean>((r) => (answer = r)));
    await snapshotRead;
    answer(false);
    await expect(ticking).rejects.toThrow("no longer leads");
    expect(await states()).toEqual(["success", "none"]);

    loop.wake(run.id);
    await loop.tick(Promise.resolve(true));
    expect(await states()).toEqual(["success", "queued"]);
  });
});
