/**
 * Refill (scheduler/refill.ts), on SQLite and Postgres: a slot freed by an inline task that ended goes to the
 * next waiting inline task without waiting for a tick. Through the real loop, runner and store: every task
 * runs exactly once, the no-op server never sees more requests at once than parallelism allows, refills do
 * happen, a pause stops them, and a task of another pool does not take the slot.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { guardedStore, openStore, type Store } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";
import { parseDagSpec } from "../../src/domain/schemas";
import type { InlineRunner } from "../../src/executors";
import type { SchedulerLoop } from "../../src/scheduler/loop";
import { WAITING_SCHEDULES_CHUNK } from "../../src/scheduler/waiting-schedules";
import { buildDagRun } from "../../src/scheduler/trigger";
import { inlineLoop } from "../support/inline-loop";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";
import { untilRunEnds } from "../support/run-end";
import { overriding } from "../../src/store/decorate";

let server: ReturnType<typeof Bun.serve>;
let base = "";
/** Requests in flight now and at most, and how many times each task was called. */
let inFlight = 0;
let maxInFlight = 0;
const calls = new Map<string, number>();
/** While set, /hold requests wait for it. */
let gate: Promise<void> | null = null;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const task = url.searchParams.get("t") ?? "";
      calls.set(task, (calls.get(task) ?? 0) + 1);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        // Answers in a later turn, some later than others, so that ends and starts interleave.
        await Bun.sleep(task.length % 3);
        if (url.pathname === "/hold" && gate) await gate;
        if (url.pathname === "/fail") return new Response("no", { status: 500 });
        return new Response("ok");
      } finally {
        inFlight--;
      }
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

const PARALLELISM = 4;

/** When a start's write went to the store and when its answer came back, as steps of one counter. */
type WriteSpan = { issued: number; returned: number };
let step = 0;

/**
 * `store`, recording into `ids` the task instances whose move to running applied, in the order the writes
 * returned, into `withEnds` those that rode on an inline end's write (InlineTryEnd.next), and into `spans` each
 * start's write span.
 */
function recordingStarts(store: Store, ids: number[], withEnds: number[] = [], spans = new Map<number, WriteSpan>()): Store {
  return overriding(store, {
    applyTransitions: async (ts, now) => {
      const issued = ++step;
      const applied = await store.applyTransitions(ts, now);
      const returned = ++step;
      for (const [i, t] of ts.entries()) if (applied[i] && t.to === "running") ids.push(t.id), spans.set(t.id, { issued, returned });
      return applied;
    },
    finishInlineTries: async (ends, now) => {
      const issued = ++step;
      const results = await store.finishInlineTries(ends, now);
      const returned = ++step;
      for (const [i, e] of ends.entries())
        if (e.next && results[i]?.nextApplied) ids.push(e.next.id), withEnds.push(e.next.id), spans.set(e.next.id, { issued, returned });
      return results;
    },
  });
}

function suite(makeStore: () => Promise<Store>) {
  let store: Store;
  let loop: SchedulerLoop | undefined;
  let runner: InlineRunner | undefined;
  beforeEach(async () => {
    store = await makeStore();
    await store.migrate();
    inFlight = 0;
    maxInFlight = 0;
    calls.clear();
    gate = null;
  });
  afterEach(async () => {
    await loop?.stop();
    await runner?.close(1000);
    await store.close();
  });

  async function setUp(tasks: Record<string, unknown>[], dagId = "fan", dagFields: Record<string, unknown> = {}) {
    const spec = parseDagSpec({ dag_id: dagId, ...dagFields, tasks });
    const dag = await store.upsertDag("default", { spec, fileloc: `/dags/${dagId}.json`, pausedOnCreate: false, now: new Date() });
    ({ loop, runner } = inlineLoop(store, { concurrency: 64, parallelism: PARALLELISM, refill: true }));
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, new Date()));
    return { run, dag };
  }

  const http = (i: number, extra: Record<string, unknown> = {}, path = "ok") => ({
    task_id: `t${i}`,
    operator: "http",
    http: { url: `${base}/${path}?t=t${i}` },
    ...extra,
  });

  const untilDone = (runId: number) => untilRunEnds(store, runId);

  test("a fan-out: every task runs once, never more at once than parallelism, and freed slots are refilled", async () => {
    const n = 120;
    const started: number[] = [];
    const withEnds: number[] = [];
    store = recordingStarts(store, started, withEnds);
    const { run } = await setUp(Array.from({ length: n }, (_, i) => http(i)));
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("success");
    await runner!.close(1000);
    expect(calls.size).toBe(n);
    expect([...calls.values()].every((c) => c === 1)).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(PARALLELISM);
    expect(loop!.refilled).toBeGreaterThan(0);
    // Each task started once; most freed slots passed on with the end's own write.
    expect(new Set(started).size).toBe(n);
    expect(started).toHaveLength(n);
    expect(withEnds.length).toBeGreaterThan(n / 2);
    const tis = (await store.listTaskInstances("default", "fan", run.run_id, { limit: 1000 })).items;
    expect(tis.every((t) => t.state === "success" && t.try_number === 1)).toBe(true);
  }, 30_000);

  // More than WAITING_SCHEDULES_CHUNK waiting: their schedules go out in several writes, the ends going on between.
  test.each([60, WAITING_SCHEDULES_CHUNK + 100])(
    "the first tick's waiting tasks take the first freed slots: that tick starts parallelism tasks, refills all the rest (%i tasks)",
    async (n) => {
      // The tick writes the waiting tasks' schedules (refills take only scheduled ones) in the refill queue's order,
      // the first of them before its own starts: the first ends find the queue's head ready, not a tick away.
      const { run } = await setUp(Array.from({ length: n }, (_, i) => http(i)));
      loop!.start();
      expect((await untilDone(run.id)).state).toBe("success");
      expect(calls.size).toBe(n);
      expect([...calls.values()].every((c) => c === 1)).toBe(true);
      expect(loop!.refilled).toBe(n - PARALLELISM);
    },
    30_000,
  );

  test("a chain hands each slot to the next task with its upstream's end: every hop without a tick", async () => {
    const n = 8;
    const started: number[] = [];
    const withEnds: number[] = [];
    store = recordingStarts(store, started, withEnds);
    const { run } = await setUp(Array.from({ length: n }, (_, i) => http(i, i ? { upstream: [`t${i - 1}`] } : {})));
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("success");
    const tis = (await store.listTaskInstances("default", "fan", run.run_id, { limit: 100 })).items;
    const taskOf = new Map(tis.map((t) => [t.id, t.task_id]));
    expect(started.map((id) => taskOf.get(id))).toEqual(Array.from({ length: n }, (_, i) => `t${i}`));
    // All but the first started with their upstream's end; each ran once, in order, after its upstream ended.
    expect(withEnds.map((id) => taskOf.get(id))).toEqual(Array.from({ length: n - 1 }, (_, i) => `t${i + 1}`));
    // Nor did those ends wake the run: it could not move while the next task ran.
    expect(loop!.wakesSpared).toBe(n - 1);
    expect([...calls.values()].every((c) => c === 1) && calls.size === n).toBe(true);
    const byTask = new Map(tis.map((t) => [t.task_id, t]));
    for (let i = 1; i < n; i++)
      expect(byTask.get(`t${i}`)!.start_date!.getTime()).toBeGreaterThanOrEqual(byTask.get(`t${i - 1}`)!.end_date!.getTime());
    expect(tis.every((t) => t.state === "success" && t.try_number === 1)).toBe(true);
  }, 30_000);

  test("a chain's task that fails hands nothing over: its downstream is upstream_failed", async () => {
    const started: number[] = [];
    const withEnds: number[] = [];
    store = recordingStarts(store, started, withEnds);
    const { run } = await setUp([http(0), { ...http(1, { upstream: ["t0"] }, "fail"), retries: 0 }, http(2, { upstream: ["t1"] })]);
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("failed");
    const tis = (await store.listTaskInstances("default", "fan", run.run_id)).items;
    expect(Object.fromEntries(tis.map((t) => [t.task_id, t.state]))).toEqual({ t0: "success", t1: "failed", t2: "upstream_failed" });
    expect(withEnds).toHaveLength(1); // t1, with t0's end
    expect(calls.has("t2")).toBe(false);
  }, 30_000);

  test("priority order holds: refills start the waiting tasks highest priority_weight first", async () => {
    const n = 40;
    // One task holds a slot while the rest are ordered; then every end refills in order.
    // The starts the store applied: a tick's, a refill's own write, and those riding on an end's write.
    const startedIds: number[] = [];
    const spans = new Map<number, WriteSpan>();
    store = recordingStarts(store, startedIds, [], spans);
    const { run } = await setUp(Array.from({ length: n }, (_, i) => http(i, { priority_weight: i })));
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("success");
    expect(loop!.refilled).toBeGreaterThan(0);
    const priorityOf = new Map(
      (await store.listTaskInstances("default", "fan", run.run_id, { limit: 100 })).items.map((t) => [t.id, t.priority_weight]),
    );
    // Each task once.
    expect(new Set(startedIds).size).toBe(n);
    expect(startedIds.length).toBe(n);
    // No task started while one of higher priority waited: a start written before a higher one's write went
    // out is an inversion. Writes on their way at once (an end's on its connection, a refill's on another)
    // may come back in either order, so only starts whose writes did not overlap are compared.
    const inversions: string[] = [];
    for (const [lower, l] of spans)
      for (const [higher, h] of spans)
        if (priorityOf.get(lower)! < priorityOf.get(higher)! && l.returned < h.issued)
          inversions.push(`t${priorityOf.get(lower)} before t${priorityOf.get(higher)}`);
    expect(inversions).toEqual([]);
    // Mostly in order as they came back, too (a check that the spans are not all overlapping).
    const inOrder = startedIds.filter((id, i) => i === 0 || priorityOf.get(startedIds[i - 1]!)! > priorityOf.get(id)!).length;
    expect(inOrder).toBeGreaterThan(n / 2);
  }, 30_000);

  test("a pause stops refills: no task starts after the pause until the DAG is unpaused", async () => {
    const n = 30;
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    const { run } = await setUp(Array.from({ length: n }, (_, i) => http(i, {}, "hold")));
    loop!.start();
    for (let i = 0; i < 500 && inFlight < PARALLELISM; i++) await Bun.sleep(5);
    expect(inFlight).toBe(PARALLELISM);
    await store.setDagPaused("default", "fan", true);
    loop!.wake(); // as the API does on a pause
    await loop!.idle();
    const before = calls.size;
    open(); // the running ones end; their slots must not be refilled
    for (let i = 0; i < 500 && runner!.inFlight > 0; i++) await Bun.sleep(5);
    await loop!.idle();
    await Bun.sleep(50);
    await loop!.idle();
    expect(calls.size).toBe(before);
    expect(loop!.refilled).toBe(0);
    await store.setDagPaused("default", "fan", false);
    loop!.wake();
    expect((await untilDone(run.id)).state).toBe("success");
    expect(calls.size).toBe(n);
  }, 30_000);

  test("ends that move nothing downstream need no tick of their run: the join runs once, after all of them", async () => {
    const n = 60;
    const fan = Array.from({ length: n }, (_, i) => http(i));
    const join = { task_id: "join", operator: "http", http: { url: `${base}/ok?t=join` }, upstream: fan.map((t) => t.task_id) };
    const { run } = await setUp([...fan, join]);
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("success");
    expect(loop!.wakesSpared).toBeGreaterThan(0);
    expect([...calls.values()].every((c) => c === 1)).toBe(true);
    expect(calls.size).toBe(n + 1);
    const tis = (await store.listTaskInstances("default", "fan", run.run_id, { limit: 1000 })).items;
    const lastEnd = Math.max(...tis.filter((t) => t.task_id !== "join").map((t) => t.end_date!.getTime()));
    expect(tis.find((t) => t.task_id === "join")!.start_date!.getTime()).toBeGreaterThanOrEqual(lastEnd);
  }, 30_000);

  test("a failure among such ends wakes its run: the join fails upstream, the run fails", async () => {
    const n = 40;
    const fan = Array.from({ length: n }, (_, i) => http(i, {}, i === 5 ? "fail" : "ok"));
    const join = { task_id: "join", operator: "http", http: { url: `${base}/ok?t=join` }, upstream: fan.map((t) => t.task_id) };
    const { run } = await setUp([...fan, join]);
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("failed");
    const tis = (await store.listTaskInstances("default", "fan", run.run_id, { limit: 1000 })).items;
    expect(tis.find((t) => t.task_id === "t5")!.state).toBe("failed");
    expect(tis.find((t) => t.task_id === "join")!.state).toBe("upstream_failed");
    expect(calls.has("join")).toBe(false);
  }, 30_000);

  /** `n` tasks ran once each, never more than `atOnce` at a time, and most freed slots passed on at the end that freed them. */
  function expectRefilledWithin(n: number, atOnce: number): void {
    expect(maxInFlight).toBeLessThanOrEqual(atOnce);
    expect(calls.size).toBe(n);
    expect([...calls.values()].every((c) => c === 1)).toBe(true);
    expect(loop!.refilled).toBeGreaterThan(n / 2);
  }

  test("a fan-out its pool holds back: the pool's freed slots are refilled, never more tasks at once than its slots", async () => {
    // Parallelism (4) leaves room: the pool's 2 slots are the limit, and every task waits for them.
    await store.createPool("default", { name: "two", slots: 2, description: null, include_deferred: false });
    const n = 40;
    const { run } = await setUp(Array.from({ length: n }, (_, i) => http(i, { pool: "two", priority_weight: i })));
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("success");
    expectRefilledWithin(n, 2);
    const tis = (await store.listTaskInstances("default", "fan", run.run_id, { limit: 100 })).items;
    expect(tis.every((t) => t.state === "success" && t.try_number === 1)).toBe(true);
  }, 30_000);

  test("a fan-out its DAG's max_active_tasks holds back: freed slots are refilled, never more at once than the DAG allows", async () => {
    // Airflow's default max_active_tasks (16) is below the default parallelism (32): the DAG is the limit.
    const n = 40;
    const { run } = await setUp(
      Array.from({ length: n }, (_, i) => http(i)),
      "fan",
      { max_active_tasks: 2 },
    );
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("success");
    expectRefilledWithin(n, 2);
  }, 30_000);

  test("two teams' fan-outs at parallelism: every task once, never more at once than parallelism, and a team that came later gets its turns", async () => {
    const n = 40;
    const started: number[] = [];
    store = recordingStarts(store, started);
    const teamFan = async (team: string, path: string) => {
      await store.ensureTeam(team, new Date());
      const spec = parseDagSpec({
        dag_id: "fan",
        max_active_tasks: 1000,
        tasks: Array.from({ length: n }, (_, i) => ({
          task_id: `t${i}`,
          operator: "http",
          http: { url: `${base}/${path}?t=${team}${i}` },
        })),
      });
      const dag = await store.upsertDag(team, { spec, fileloc: `/dags/${team}/fan.json`, pausedOnCreate: false, now: new Date() });
      return store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, new Date()));
    };
    ({ loop, runner } = inlineLoop(store, { concurrency: 64, parallelism: PARALLELISM, refill: true }));
    // Team a takes every slot and holds it; team b's run comes while it does.
    let release = () => {};
    gate = new Promise<void>((r) => (release = r));
    const a = await teamFan("a", "hold");
    loop.start();
    while (inFlight < PARALLELISM) await Bun.sleep(1);
    const b = await teamFan("b", "ok");
    loop.wake(b.id);
    await loop.idle();
    const first = started.length;
    gate = null;
    release();
    expect((await untilDone(a.id)).state).toBe("success");
    expect((await untilDone(b.id)).state).toBe("success");
    expect(calls.size).toBe(2 * n);
    expect([...calls.values()].every((c) => c === 1)).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(PARALLELISM);
    expect(loop.refilled).toBeGreaterThan(0);
    // A's ends do not keep their slots for a's next tasks while b holds none: b gets half of the next starts.
    const teamOf = new Map<number, string>();
    for (const team of ["a", "b"])
      for (const t of (await store.listTaskInstances(team, "fan", team === "a" ? a.run_id : b.run_id, { limit: 100 })).items)
        teamOf.set(t.id, team);
    const next = started.slice(first, first + 2 * PARALLELISM).map((id) => teamOf.get(id));
    expect(next.filter((t) => t === "b").length).toBeGreaterThanOrEqual(PARALLELISM / 2);
  }, 30_000);

  test("a slot of one pool is not refilled with a task of another (the tick decides those)", async () => {
    await store.createPool("default", { name: "other", slots: 1, description: null, include_deferred: false });
    const n = 20;
    // All in "other" (1 slot) but the first: the slot freed by t0 (default_pool) must not go to them.
    const { run } = await setUp(Array.from({ length: n }, (_, i) => http(i, i === 0 ? { priority_weight: 100 } : { pool: "other" })));
    loop!.start();
    expect((await untilDone(run.id)).state).toBe("success");
    expect(maxInFlight).toBeLessThanOrEqual(PARALLELISM);
    expect([...calls.values()].every((c) => c === 1)).toBe(true);
  }, 30_000);
}

describe("inline refill: sqlite", () => suite(async () => openStore("sqlite::memory:")));

describePg("inline refill: postgres", () => {
  const schemas = freshSchemas();
  suite(async () => guardedStore(new PostgresStore({ url: pgUrl(), schema: schemas.next(), max: 4 })));
});
