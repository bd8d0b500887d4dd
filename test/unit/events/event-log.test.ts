/**
 * EventLog: emit never waits and never throws; events reach the log in emit order, batched by what arrived
 * while the previous append was in flight; a failed append is counted and retried, not lost.
 */
import { describe, expect, test } from "bun:test";
import { EventLog } from "../../../src/events";
import { MemoryLog, created } from "./memory-log";

function setup(opts: { batchSize?: number; maxPending?: number; gate?: boolean; sleep?: (ms: number) => Promise<void> } = {}) {
  const mem = new MemoryLog();
  const batches: number[] = [];
  const notified: number[] = [];
  let release: (() => void) | null = null;
  // Tests await "the n-th append has started" itself rather than spinning on the batches array.
  const started: { n: number; resolve: () => void }[] = [];
  const appendStarted = (n: number) => new Promise<void>((resolve) => (batches.length >= n ? resolve() : started.push({ n, resolve })));
  const log = new EventLog({
    append: async (events) => {
      batches.push(events.length);
      for (const w of started.filter((w) => w.n <= batches.length)) w.resolve();
      if (opts.gate) await new Promise<void>((r) => (release = r));
      return mem.append(events);
    },
    onAppended: (id) => notified.push(id),
    retryDelayMs: () => 60_000, // retries in these tests happen through close(), never by the clock
    batchSize: opts.batchSize,
    maxPending: opts.maxPending,
    sleep: opts.sleep,
  });
  return { mem, log, batches, notified, appendStarted, release: () => release?.() };
}

describe("EventLog", () => {
  test("emit returns before anything is written; a burst in one turn is one append, in emit order", async () => {
    const { mem, log, batches, notified } = setup();
    for (const r of ["r1", "r2", "r3"]) log.emit(created(r));
    expect(batches).toEqual([]);
    await log.settled();
    expect(batches).toEqual([3]);
    expect(mem.rows.map((e) => [e.id, e.run_id])).toEqual([
      [1, "r1"],
      [2, "r2"],
      [3, "r3"],
    ]);
    expect(notified).toEqual([3]);
    expect([log.emitted, log.appended, log.lost, log.failures]).toEqual([3, 3, 0, 0]);
  });

  test("events emitted while an append is in flight go out together in the next one", async () => {
    const s = setup({ gate: true });
    s.log.emit(created("r1"));
    await s.appendStarted(1);
    for (const r of ["r2", "r3", "r4"]) s.log.emit(created(r));
    s.release();
    await s.appendStarted(2);
    s.release();
    await s.log.settled();
    expect(s.batches).toEqual([1, 3]);
    expect(s.mem.rows.map((e) => e.run_id)).toEqual(["r1", "r2", "r3", "r4"]);
  });

  test("a large burst is split into statements of at most batchSize rows", async () => {
    const { mem, log, batches } = setup({ batchSize: 2 });
    for (let i = 1; i <= 5; i++) log.emit(created(`r${i}`));
    await log.settled();
    expect(batches).toEqual([2, 2, 1]);
    expect(mem.rows.map((e) => e.id)).toEqual([1, 2, 3, 4, 5]);
  });

  test("appends are spaced: events emitted within the spacing after an append go out together, and no sooner", async () => {
    // The spacing is a sleep the test ends by hand: nothing here depends on the clock.
    const waits: { ms: number; end: () => void }[] = [];
    const sleep = (ms: number) => new Promise<void>((end) => waits.push({ ms, end }));
    const s = setup({ sleep });
    s.log.emit(created("r1")); // the first event after a quiet spell: no wait
    await s.appendStarted(1);
    await s.log.settled();
    s.log.emit(created("r2"));
    await new Promise((r) => setImmediate(r));
    s.log.emit(created("r3"));
    await new Promise((r) => setImmediate(r));
    expect(s.batches).toEqual([1]);
    expect(waits.length).toBe(1);
    expect(waits[0]!.ms).toBeGreaterThan(0);
    waits[0]!.end();
    await s.appendStarted(2);
    await s.log.settled();
    expect(s.batches).toEqual([1, 2]);
    expect(s.mem.rows.map((e) => e.run_id)).toEqual(["r1", "r2", "r3"]);
  });

  test("a full batch is not spaced: a burst goes out as fast as the log takes it", async () => {
    const waits: number[] = [];
    const s = setup({ batchSize: 2, sleep: async (ms) => void waits.push(ms) });
    for (let i = 1; i <= 5; i++) s.log.emit(created(`r${i}`));
    await s.log.settled();
    expect(s.batches).toEqual([2, 2, 1]);
    // Only the last, partial batch waited for its spacing.
    expect(waits.length).toBe(1);
  });

  test("a failed append never reaches the emitter: it is counted, kept in order and appended later", async () => {
    const errors: unknown[] = [];
    const mem = new MemoryLog();
    const log = new EventLog({ append: (e) => mem.append(e), onError: (e) => errors.push(e), retryDelayMs: () => 60_000 });
    mem.failNext = new Error("connection refused");
    log.emit(created("r1"));
    log.emit(created("r2"));
    await log.settled();
    expect([log.failures, log.backlog, log.appended, mem.rows.length]).toEqual([1, 2, 0, 0]);
    expect(errors).toEqual([new Error("connection refused")]);
    log.emit(created("r3")); // waits for the retry, behind r1 and r2
    await log.close();
    expect(mem.rows.map((e) => e.run_id)).toEqual(["r1", "r2", "r3"]);
    expect([log.appended, log.lost]).toEqual([3, 0]);
  });

  test("while the log refuses appends, at most maxPending events wait; the oldest are dropped and counted", async () => {
    const mem = new MemoryLog();
    const log = new EventLog({ append: (e) => mem.append(e), maxPending: 2, retryDelayMs: () => 60_000 });
    mem.failNext = new Error("down");
    log.emit(created("r1"));
    await log.settled();
    for (const r of ["r2", "r3"]) log.emit(created(r));
    expect([log.backlog, log.lost]).toEqual([2, 1]);
    await log.close();
    expect(mem.rows.map((e) => e.run_id)).toEqual(["r2", "r3"]);
  });

  test("close appends what is pending; later emits are counted as lost", async () => {
    const { mem, log } = setup();
    log.emit(created("r1"));
    await log.close();
    log.emit(created("r2"));
    expect(mem.rows.map((e) => e.run_id)).toEqual(["r1"]);
    expect(log.lost).toBe(1);
  });

  test("an event without a time is stamped when emitted", async () => {
    const mem = new MemoryLog();
    const log = new EventLog({ append: (e) => mem.append(e), now: () => new Date("2026-02-03T04:05:06Z") });
    log.emit({ type: "dag_run.started", team: "default", dag_id: "etl", run_id: "r1", state: "running" });
    await log.settled();
    expect(mem.rows[0]!.time).toBe("2026-02-03T04:05:06.000Z");
  });
});
