/**
 * Dispatch retries: the pure backoff and decision as tables, then timelines through the real loop and an
 * in-memory store with an injected clock: held back until its time, launched again, or dead-lettered.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { DagSpec, DagRunRecord, TaskInstanceRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { openStore, type Store } from "../../../src/store";
import { SchedulerLoop, buildDagRun } from "../../../src/scheduler";
import { DispatchRetryPolicy, decideDispatchFailure, dispatchBackoffMs } from "../../../src/dispatch";
import { EventHub } from "../../../src/events";
import { Metrics, silentLogger } from "../../../src/observability";
import { overriding } from "../../../src/store/decorate";

const T0 = new Date("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

describe("dispatchBackoffMs", () => {
  test.each([
    [0, 0],
    [1, 5000],
    [2, 10_000],
    [3, 20_000],
    [5, 80_000],
  ])("after %i failed launches: %i ms", (failed, ms) => expect(dispatchBackoffMs(failed, 5000)).toBe(ms));
});

describe("decideDispatchFailure", () => {
  const opts = { maxAttempts: 3, baseMs: 5000 };
  test.each([
    [1, { kind: "retry", attempt: 1, nextAt: at(5), note: "dispatch attempt 1/3 failed: boom; next at 2026-01-01T00:00:05.000Z" }],
    [2, { kind: "retry", attempt: 2, nextAt: at(10), note: "dispatch attempt 2/3 failed: boom; next at 2026-01-01T00:00:10.000Z" }],
    [3, { kind: "dead_letter", attempt: 3, note: "dispatch_failed: boom" }],
    [4, { kind: "dead_letter", attempt: 4, note: "dispatch_failed: boom" }],
  ])("attempt %i", (attempt, expected) => expect(decideDispatchFailure(attempt, "boom", opts, T0)).toEqual(expected as never));

  test("one allowed attempt dead-letters at once", () => {
    expect(decideDispatchFailure(1, "x", { maxAttempts: 1, baseMs: 5000 }, T0).kind).toBe("dead_letter");
  });
});

/** An executor that refuses the first `failures` launches of each try, then launches and succeeds. */
class FlakyExecutor {
  attempts: string[] = [];
  constructor(
    private store: Store,
    private clock: () => Date,
    private failures: number,
  ) {}
  async dispatch(ti: TaskInstanceRecord, _run: DagRunRecord, _spec: DagSpec): Promise<void> {
    this.attempts.push(`${ti.task_id}#${ti.try_number}@${(this.clock().getTime() - T0.getTime()) / 1000}`);
    if (this.attempts.length <= this.failures) throw new Error(`spawn /nope ENOENT (${this.attempts.length})`);
    const now = this.clock();
    await this.store.applyTransitions(
      [{ id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number, patch: { start_date: now } }],
      now,
    );
    await this.store.applyTransitions(
      [{ id: ti.id, from: ["running"], to: "success", try_number: ti.try_number, patch: { end_date: now } }],
      now,
    );
  }
}

let store: Store;
let now: Date;
beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
  now = T0;
});
afterEach(async () => store.close());

async function setup(failures: number, tasks: object[] = [{ task_id: "a", operator: "bash", bash_command: "true" }]) {
  const spec = parseDagSpec({ dag_id: "flaky", tasks });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/flaky.json", pausedOnCreate: false, now: T0 });
  const executor = new FlakyExecutor(store, () => now, failures);
  const hub = new EventHub(() => now);
  const events = hub.subscribe();
  const metrics = new Metrics();
  const failuresCounter = metrics.counter("leoflow_dispatch_failures_total", "x", ["outcome"]);
  let loop: SchedulerLoop;
  const policy = new DispatchRetryPolicy({
    store,
    logger: silentLogger,
    maxAttempts: 3,
    baseMs: 5000,
    wake: (id) => loop.wake(id),
    events: hub,
    failures: failuresCounter,
  });
  loop = new SchedulerLoop({
    store,
    dispatcher: executor,
    logger: silentLogger,
    sweepIntervalMs: 60_000,
    parallelism: 8,
    now: () => now,
    onDispatchFailure: policy.onDispatchFailure,
    dispatchGate: policy,
  });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, T0));
  const tickAt = async (s: number) => {
    now = at(s);
    for (let i = 0; i < 10; i++) {
      loop.wake();
      const r = await loop.tick();
      if (!r.transitions && !r.dispatched) break;
    }
  };
  const ti = async (id = "a") => (await store.getTaskInstance("default", "flaky", run.run_id, id))!;
  return { executor, events, failuresCounter, tickAt, ti, run };
}

describe("DispatchRetryPolicy in the loop", () => {
  test("two refused launches back off 5 s then 10 s on the same try; the third launch runs", async () => {
    const { executor, tickAt, ti, run, failuresCounter } = await setup(2);
    await tickAt(0);
    let a = await ti();
    expect([a.state, a.try_number, a.note]).toEqual([
      "scheduled",
      1,
      "dispatch attempt 1/3 failed: spawn /nope ENOENT (1); next at 2026-01-01T00:00:05.000Z",
    ]);
    await tickAt(4.999); // held back
    expect(executor.attempts).toEqual(["a#1@0"]);
    await tickAt(5);
    a = await ti();
    expect(a.note).toBe("dispatch attempt 2/3 failed: spawn /nope ENOENT (2); next at 2026-01-01T00:00:15.000Z");
    await tickAt(14);
    await tickAt(15);
    a = await ti();
    expect([a.state, a.try_number]).toEqual(["success", 1]);
    expect(executor.attempts).toEqual(["a#1@0", "a#1@5", "a#1@15"]);
    expect((await store.getDagRunById(run.id))!.state).toBe("success");
    expect(failuresCounter.get({ outcome: "retry" })).toBe(2);
  });

  test("the third refusal dead-letters: failed with the last error, a log line and an event", async () => {
    const { executor, events, tickAt, ti, run, failuresCounter } = await setup(99);
    for (const s of [0, 5, 15]) await tickAt(s);
    const a = await ti();
    expect([a.state, a.note]).toEqual(["failed", "dispatch_failed: spawn /nope ENOENT (3)"]);
    expect(executor.attempts).toEqual(["a#1@0", "a#1@5", "a#1@15"]);
    expect((await store.readLogs(a.id, 1)).map((l) => l.line)).toEqual([
      "leoflow: dispatch_failed: spawn /nope ENOENT (3) (after 3 launch attempts)",
    ]);
    expect((await store.getDagRunById(run.id))!.state).toBe("failed");
    const dead: unknown[] = [];
    for (let e = events.poll(); e; e = events.poll()) if (e.type === "task_instance.dead_lettered") dead.push(e);
    expect(dead).toEqual([
      {
        type: "task_instance.dead_lettered",
        team: "default",
        dag_id: "flaky",
        run_id: run.run_id,
        task_id: "a",
        try_number: 1,
        attempts: 3,
        error: "spawn /nope ENOENT (3)",
        id: 1,
        time: at(15).toISOString(),
      },
    ]);
    expect(failuresCounter.get({ outcome: "dead_letter" })).toBe(1);
  });

  test("a dead-lettered try with task retries left gets a fresh launch budget on the next try", async () => {
    const { executor, tickAt, ti } = await setup(3, [{ task_id: "a", operator: "bash", bash_command: "true", retries: 1, retry_delay: 0 }]);
    for (const s of [0, 5, 15]) await tickAt(s);
    const a = await ti();
    expect([a.state, a.try_number]).toEqual(["success", 2]);
    expect(executor.attempts).toEqual(["a#1@0", "a#1@5", "a#1@15", "a#2@15"]);
  });
});

describe("DispatchRetryPolicy.heldUntil (the loop's dispatch gate)", () => {
  /** A task instance another replica backed off until `until` (written to the store, not through this policy). */
  async function backedOffElsewhere(until: Date) {
    const spec = parseDagSpec({ dag_id: "flaky", tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/flaky.json", pausedOnCreate: false, now: T0 });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, T0));
    const ti = (await store.getTaskInstance("default", "flaky", run.run_id, "a"))!;
    await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], T0);
    await store.recordDispatchFailure(ti.id, 1, "boom", T0);
    await store.deferDispatch(ti.id, 1, until, "backing off", T0);
    return ti;
  }

  function countingPolicy() {
    let reads = 0;
    const counted = overriding(store, {
      listDispatchBackoffs: (now) => {
        reads++;
        return store.listDispatchBackoffs(now);
      },
    });
    const policy = new DispatchRetryPolicy({ store: counted, logger: silentLogger, maxAttempts: 3, baseMs: 5000, wake: () => {} });
    return { policy, reads: () => reads };
  }

  test("reads the store once a second, not per tick, and still holds what it read until its time", async () => {
    const { policy, reads } = countingPolicy();
    const ti = await backedOffElsewhere(at(1.5));
    for (let ms = 0; ms < 1000; ms += 10) expect([...(await policy.heldUntil(new Date(T0.getTime() + ms))).keys()]).toEqual([ti.id]);
    expect(reads()).toBe(1);
    expect((await policy.heldUntil(at(1.2))).get(ti.id)).toEqual({ try_number: 1, until: at(1.5) });
    expect((await policy.heldUntil(at(1.5))).size).toBe(0);
    expect(reads()).toBe(2);
  });

  test("a launch it backs off itself is held at once, without reading; reset() reads again (a new term of leadership)", async () => {
    const { policy, reads } = countingPolicy();
    expect((await policy.heldUntil(T0)).size).toBe(0);
    const ti = await backedOffElsewhere(at(30));
    await policy.onDispatchFailure(ti, new Error("spawn /nope ENOENT"), at(0.1));
    // Its own back-off (attempt 2: 10 s after this failure) replaces the one read or written before.
    expect((await policy.heldUntil(at(0.2))).get(ti.id)).toEqual({ try_number: 1, until: at(10.1) });
    expect(reads()).toBe(1);
    policy.reset();
    await store.deferDispatch(ti.id, 1, at(40), "backing off", at(0.3)); // another replica, meanwhile
    expect((await policy.heldUntil(at(0.3))).get(ti.id)).toEqual({ try_number: 1, until: at(40) });
    expect(reads()).toBe(2);
  });
});
