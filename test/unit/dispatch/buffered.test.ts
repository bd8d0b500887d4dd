/**
 * BufferedDispatcher: passthrough, bounded queue (AtCapacityError), drain on close, the failure sink and its
 * counters; then through the real loop and an in-memory store: a full buffer leaves the task instance
 * scheduled, and a launch failing on a worker fails it with the reason instead of stranding it in queued.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { DagSpec, DagRunRecord, TaskInstanceRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { openStore, type Store } from "../../../src/store";
import { SchedulerLoop, buildDagRun } from "../../../src/scheduler";
import { AtCapacityError, BufferedDispatcher, type TaskDispatcher } from "../../../src/dispatch";
import { silentLogger } from "../../../src/observability";

/** An inner dispatcher whose launches finish only when the test says so. */
class GatedInner implements TaskDispatcher {
  started: string[] = [];
  private gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
  async dispatch(ti: TaskInstanceRecord): Promise<void> {
    this.started.push(ti.task_id);
    await new Promise<void>((resolve, reject) => this.gates.push({ resolve, reject }));
  }
  /** Finishes the oldest launch still running (or fails it). */
  finish(error?: Error): void {
    const g = this.gates.shift()!;
    if (error) g.reject(error);
    else g.resolve();
  }
  get running(): number {
    return this.gates.length;
  }
}

const ti = (task_id: string, id = 1) => ({ id, task_id, try_number: 1, dag_id: "d", run_id: "r", dag_run_id: 1 }) as TaskInstanceRecord;
const RUN = {} as DagRunRecord;
const SPEC = {} as DagSpec;
const settle = () => new Promise((r) => setImmediate(r));

describe("BufferedDispatcher", () => {
  test("bufferSize 0 is a passthrough: the call waits for the launch and its error reaches the caller", async () => {
    const failures: string[] = [];
    const inner: TaskDispatcher = { dispatch: async () => Promise.reject(new Error("spawn ENOENT")) };
    const b = new BufferedDispatcher({
      inner,
      bufferSize: 0,
      workers: 0,
      logger: silentLogger,
      onFailure: async (_t, e) => void failures.push(e.message),
    });
    await expect(b.dispatch(ti("a"), RUN, SPEC)).rejects.toThrow("spawn ENOENT");
    await settle();
    expect(failures).toEqual([]);
    expect(b.metrics()).toMatchObject({ mode: "passthrough", inner_errors_total: 1, queue_depth: 0 });
  });

  test("workers bound the launches in flight; a full queue refuses with AtCapacityError at once", async () => {
    const inner = new GatedInner();
    const b = new BufferedDispatcher({ inner, bufferSize: 2, workers: 1, logger: silentLogger, onFailure: async () => {} });
    await b.dispatch(ti("a"), RUN, SPEC); // taken by the worker
    await b.dispatch(ti("b"), RUN, SPEC); // waits in the queue
    await b.dispatch(ti("c"), RUN, SPEC); // waits in the queue
    expect(inner.started).toEqual(["a"]);
    const refused = await b.dispatch(ti("d"), RUN, SPEC).catch((e) => e);
    expect(refused).toBeInstanceOf(AtCapacityError);
    expect(refused.message).toBe("dispatch buffer at capacity; will retry next tick");
    expect(b.metrics()).toMatchObject({ mode: "buffered", queue_depth: 2, in_flight: 1, at_capacity_total: 1 });
    inner.finish();
    await settle();
    expect(inner.started).toEqual(["a", "b"]);
    expect(b.metrics().queue_depth).toBe(1);
  });

  test("a slot freed after a refusal calls onSpaceAvailable once", async () => {
    const inner = new GatedInner();
    let calls = 0;
    const b = new BufferedDispatcher({
      inner,
      bufferSize: 1,
      workers: 1,
      logger: silentLogger,
      onFailure: async () => {},
      onSpaceAvailable: () => calls++,
    });
    await b.dispatch(ti("a"), RUN, SPEC);
    await b.dispatch(ti("b"), RUN, SPEC);
    await b.dispatch(ti("c"), RUN, SPEC).catch(() => {});
    await b.dispatch(ti("c"), RUN, SPEC).catch(() => {});
    inner.finish();
    await settle();
    inner.finish();
    await settle();
    expect(calls).toBe(1);
  });

  test("a launch failing on a worker goes to the failure sink with its reason, and is counted", async () => {
    const inner = new GatedInner();
    const failures: string[] = [];
    const b = new BufferedDispatcher({
      inner,
      bufferSize: 4,
      workers: 2,
      logger: silentLogger,
      onFailure: async (t, e) => void failures.push(`${t.task_id}: ${e.message}`),
    });
    await b.dispatch(ti("a"), RUN, SPEC);
    await b.dispatch(ti("b"), RUN, SPEC);
    inner.finish(new Error("pod quota exceeded"));
    inner.finish();
    await b.close();
    expect(failures).toEqual(["a: pod quota exceeded"]);
    const m = b.metrics();
    expect([m.dispatched_total, m.inner_errors_total, m.latency_seconds.count]).toEqual([1, 1, 2]);
    expect(m.latency_seconds.buckets["10"]).toBe(2);
  });

  test("close() drains everything accepted, then refuses new launches", async () => {
    const inner = new GatedInner();
    const b = new BufferedDispatcher({ inner, bufferSize: 8, workers: 2, logger: silentLogger, onFailure: async () => {} });
    for (const id of ["a", "b", "c", "d", "e"]) await b.dispatch(ti(id), RUN, SPEC);
    let closed = false;
    const closing = b.close().then(() => (closed = true));
    while (inner.running) {
      expect(closed).toBe(false);
      inner.finish();
      await settle();
    }
    await closing;
    expect(inner.started).toEqual(["a", "b", "c", "d", "e"]);
    expect(b.metrics()).toMatchObject({ queue_depth: 0, in_flight: 0, dispatched_total: 5 });
    await expect(b.dispatch(ti("f"), RUN, SPEC)).rejects.toBeInstanceOf(AtCapacityError);
  });
});

describe("BufferedDispatcher in the loop", () => {
  const T0 = new Date("2026-01-01T00:00:00Z");
  let store: Store;
  beforeEach(async () => {
    store = openStore("sqlite::memory:");
    await store.migrate();
  });
  afterEach(async () => store.close());

  async function setup(inner: TaskDispatcher, bufferSize: number, workers: number) {
    const tasks = ["a", "b", "c"].map((task_id) => ({ task_id, operator: "bash", bash_command: "true" }));
    const dag = await store.upsertDag("default", {
      spec: parseDagSpec({ dag_id: "fan", tasks }),
      fileloc: "/dags/fan.json",
      pausedOnCreate: false,
      now: T0,
    });
    let loop: SchedulerLoop;
    const buffered = new BufferedDispatcher({
      inner,
      bufferSize,
      workers,
      logger: silentLogger,
      onFailure: (t, e) => loop.dispatchFailed(t, e),
    });
    loop = new SchedulerLoop({ store, dispatcher: buffered, logger: silentLogger, sweepIntervalMs: 60_000, parallelism: 8, now: () => T0 });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, T0));
    const states = async () => (await store.loadRunSnapshots([run.id]))[0]!.tis.map((t) => `${t.task_id}=${t.state}`).sort();
    return { loop, buffered, states, run };
  }

  test("launches the buffer cannot take stay scheduled for the next tick", async () => {
    const inner = new GatedInner();
    const { loop, buffered, states } = await setup(inner, 1, 1);
    const report = await loop.tick();
    expect(report.dispatched).toBe(2);
    expect(await states()).toEqual(["a=queued", "b=queued", "c=scheduled"]);
    expect(buffered.metrics().at_capacity_total).toBe(1);
    inner.finish();
    await settle();
    inner.finish();
    await buffered.close();
  });

  test("a launch failing on a worker fails the task instance with the reason", async () => {
    const inner = new GatedInner();
    const { buffered, loop, run } = await setup(inner, 8, 3);
    await loop.tick();
    inner.finish(new Error("executor refused: no such image"));
    inner.finish();
    inner.finish();
    await buffered.close();
    const snap = (await store.loadRunSnapshots([run.id]))[0]!;
    const a = snap.tis.find((t) => t.task_id === "a")!;
    expect([a.state, a.note]).toEqual(["failed", "dispatch_failed: executor refused: no such image"]);
    expect(
      snap.tis
        .filter((t) => t.state === "queued")
        .map((t) => t.task_id)
        .sort(),
    ).toEqual(["b", "c"]);
  });
});
