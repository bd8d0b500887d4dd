/**
 * The scheduler loop over a real SQLite store and the real planner. The dispatcher here is a stand-in for an
 * agent (it reports results straight through the store, as the RPC service would), so these tests exercise
 * the loop's wake-ups, batching and failure handling without spawning processes; the e2e tests do that.
 * Time is a FakeClock: timed wake-ups and sweeps happen when a test moves it, and a test waits for the
 * loop to settle (loop.idle(), the agent's reports) instead of sleeping.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { openStore, type Store } from "../../src/store";
import type { DagSpec, DagRunRecord, TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { SchedulerLoop } from "../../src/scheduler/loop";
import { buildDagRun } from "../../src/scheduler/trigger";
import { silentLogger } from "../../src/observability";
import { FakeClock } from "../support/clock";
import { overriding } from "../../src/store/decorate";

type Outcome = "success" | "failed" | "skipped" | "throw";

class InstantAgent {
  launched: string[] = [];
  /** Reports not yet written: the loop has settled only once these are done too. */
  reports: Promise<void>[] = [];
  constructor(
    private store: Store,
    private clock: FakeClock,
    private outcome: (ti: TaskInstanceRecord) => Outcome,
    private wake: () => (id: number) => void,
  ) {}
  async dispatch(ti: TaskInstanceRecord, _run: DagRunRecord, _spec: DagSpec): Promise<void> {
    const result = this.outcome(ti);
    if (result === "throw") throw new Error("executor refused: no capacity");
    this.launched.push(`${ti.task_id}#${ti.try_number}`);
    this.reports.push(
      Promise.resolve().then(async () => {
        const now = this.clock.now();
        await this.store.applyTransitions(
          [{ id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number, patch: { start_date: now } }],
          now,
        );
        await this.store.applyTransitions(
          [{ id: ti.id, from: ["running"], to: result, try_number: ti.try_number, patch: { end_date: now } }],
          now,
        );
        this.wake()(ti.dag_run_id);
      }),
    );
  }
}

/** Waits until nothing moves without time passing: no tick in flight, no report pending, no timer due. */
async function settle(loop: SchedulerLoop, agent: InstantAgent, clock: FakeClock): Promise<void> {
  for (;;) {
    await loop.idle();
    if (agent.reports.length) await Promise.all(agent.reports.splice(0));
    else if (!clock.advance(0)) return;
  }
}

let store: Store;
beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
});
afterEach(async () => store.close());

/** Starts the loop on a fresh run of `raw` and lets it settle without moving time; `after` may move it on. */
async function runDag(
  raw: unknown,
  outcome: (ti: TaskInstanceRecord) => Outcome,
  after?: (advance: (ms: number) => Promise<void>, agent: InstantAgent) => Promise<void>,
) {
  const clock = new FakeClock();
  const spec = parseDagSpec(raw);
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/x.json", pausedOnCreate: false, now: clock.now() });
  let loop: SchedulerLoop;
  const agent = new InstantAgent(store, clock, outcome, () => (id) => loop.wake(id));
  loop = new SchedulerLoop({ store, dispatcher: agent, logger: silentLogger, sweepIntervalMs: 60_000, parallelism: 8, clock });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, clock.now()));
  loop.start();
  loop.wake(run.id);
  await settle(loop, agent, clock);
  await after?.(async (ms) => {
    clock.advance(ms);
    await settle(loop, agent, clock);
  }, agent);
  await loop.stop();
  const tis = (await store.listTaskInstances("default", dag.dag_id, run.run_id)).items;
  return { run: (await store.getDagRunById(run.id))!, agent, states: Object.fromEntries(tis.map((t) => [t.task_id, t.state])), tis };
}

const bash = (task_id: string, upstream: string[] = [], extra: object = {}) => ({
  task_id,
  operator: "bash",
  bash_command: "true",
  upstream,
  ...extra,
});

describe("SchedulerLoop", () => {
  test("a chain runs to success driven only by wake-ups (the sweep interval is a minute)", async () => {
    const { run, agent, states } = await runDag(
      { dag_id: "chain", tasks: [bash("a"), bash("b", ["a"]), bash("c", ["b"])] },
      () => "success",
    );
    expect(run.state).toBe("success");
    expect(agent.launched).toEqual(["a#1", "b#1", "c#1"]);
    expect(states).toEqual({ a: "success", b: "success", c: "success" });
  });

  test("a failure with a retry budget runs again as try 2", async () => {
    const { run, agent } = await runDag(
      { dag_id: "retry", tasks: [bash("a", [], { retries: 1, retry_delay: 0 }), bash("b", ["a"])] },
      (ti) => (ti.task_id === "a" && ti.try_number === 1 ? "failed" : "success"),
    );
    expect(agent.launched).toEqual(["a#1", "a#2", "b#1"]);
    expect(run.state).toBe("success");
  });

  test("a retry waits for its delay and runs when it is due, with no sweep to help (the sweep interval is a minute)", async () => {
    const seen: string[][] = [];
    const { run, agent } = await runDag(
      { dag_id: "delayed", tasks: [bash("a", [], { retries: 1, retry_delay: 10 }), bash("b", ["a"])] },
      (ti) => (ti.task_id === "a" && ti.try_number === 1 ? "failed" : "success"),
      async (advance, agent) => {
        seen.push([...agent.launched]);
        await advance(9_000);
        seen.push([...agent.launched]);
        await advance(1_000);
      },
    );
    expect(seen).toEqual([["a#1"], ["a#1"]]); // up for retry until the 10 s are up
    expect(agent.launched).toEqual(["a#1", "a#2", "b#1"]);
    expect(run.state).toBe("success");
  });

  test("a failure without budget fails downstream as upstream_failed and the run as failed", async () => {
    const { run, states } = await runDag(
      { dag_id: "fail", tasks: [bash("a"), bash("b", ["a"]), bash("c", ["b"]), bash("d", ["a"], { trigger_rule: "all_done" })] },
      (ti) => (ti.task_id === "a" ? "failed" : "success"),
    );
    expect(states).toEqual({ a: "failed", b: "upstream_failed", c: "upstream_failed", d: "success" });
    expect(run.state).toBe("failed");
  });

  test("a dispatch failure fails the task with the reason instead of leaving it queued", async () => {
    const { run, tis } = await runDag({ dag_id: "refused", tasks: [bash("a")] }, () => "throw");
    expect(run.state).toBe("failed");
    expect(tis[0]!.state).toBe("failed");
    expect(tis[0]!.note).toBe("dispatch_failed: executor refused: no capacity");
  });

  test("parallelism caps how many task instances are queued or running at once", async () => {
    const spec = parseDagSpec({ dag_id: "wide", tasks: Array.from({ length: 10 }, (_, i) => bash(`t${i}`)) });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/w.json", pausedOnCreate: false, now: new Date() });
    const launched: string[] = [];
    const loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async (ti) => void launched.push(ti.task_id) },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 3,
    });
    await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, new Date()));
    await loop.tick();
    await loop.tick();
    expect(launched.length).toBe(3);
    expect((await store.countActiveTaskInstances()).byDag.get("default/wide")).toBe(3);
  });
});

describe("SchedulerLoop sweeps", () => {
  test("after the first full sweep, a sweep reloads only runs that changed, and still catches a missed wake-up", async () => {
    const spec = parseDagSpec({ dag_id: "quiet", tasks: [bash("a"), bash("b", ["a"])] });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/q.json", pausedOnCreate: false, now: new Date() });
    const launched: string[] = [];
    const clock = new FakeClock("2026-11-01T00:00:00Z");
    const loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async (ti) => void launched.push(`${ti.run_id}/${ti.task_id}`) },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 100,
      clock,
    });
    for (const r of ["r1", "r2", "r3"])
      await store.createDagRun(buildDagRun(dag, { run_id: r, run_type: "manual", logical_date: null }, clock.now()));
    loop.wake();
    expect((await loop.tick()).runs).toBe(3); // first sweep: everything
    expect(launched.sort()).toEqual(["r1/a", "r2/a", "r3/a"]);
    clock.advance(10_000);
    loop.wake();
    await loop.tick(); // a quiet sweep (it rereads the previous sweep's own writes, within the clock slack)

    // 10 s later another replica finishes r2's task, and its wake-up never arrives here.
    clock.advance(10_000);
    const a2 = (await store.getTaskInstance("default", "quiet", "r2", "a"))!;
    await store.applyTransitions([{ id: a2.id, from: ["queued"], to: "running", try_number: 1 }], clock.now());
    await store.applyTransitions([{ id: a2.id, from: ["running"], to: "success", try_number: 1 }], clock.now());

    clock.advance(1_000);
    loop.wake(); // the periodic sweep
    const sweep = await loop.tick();
    expect(sweep.runs).toBe(1); // only r2 was reloaded
    expect(launched).toContain("r2/b");
    expect(launched.filter((l) => l.endsWith("/b"))).toEqual(["r2/b"]);
  });
});

describe("SchedulerLoop capacity", () => {
  test("a task that waited for capacity is queued when a slot frees, without reloading its run; a pause withdraws it", async () => {
    const spec = parseDagSpec({ dag_id: "narrow", tasks: [bash("only")] });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/n.json", pausedOnCreate: false, now: new Date() });
    const launched: string[] = [];
    const loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async (ti) => void launched.push(ti.run_id) },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 1,
    });
    for (const r of ["r1", "r2", "r3"])
      await store.createDagRun(buildDagRun(dag, { run_id: r, run_type: "manual", logical_date: null }, new Date()));
    loop.wake();
    await loop.tick();
    expect(launched).toEqual(["r1"]);
    expect((await store.getTaskInstance("default", "narrow", "r2", "only"))!.note).toContain("parallelism (1)");

    // r1's task finishes; only r1 is woken.
    const t1 = (await store.getTaskInstance("default", "narrow", "r1", "only"))!;
    await store.applyTransitions([{ id: t1.id, from: ["queued"], to: "success", try_number: 1 }], new Date());
    const r1 = (await store.getDagRun("default", "narrow", "r1"))!;
    loop.wake(r1.id);
    const report = await loop.tick();
    expect(report.runs).toBe(1); // r1 alone was reloaded
    expect(launched).toEqual(["r1", "r2"]);
    expect((await store.getTaskInstance("default", "narrow", "r2", "only"))!.note).toBeNull();

    // Pausing the DAG withdraws r3's waiting task even though r3 is never reloaded.
    await store.setDagPaused("default", "narrow", true);
    const t2 = (await store.getTaskInstance("default", "narrow", "r2", "only"))!;
    await store.applyTransitions([{ id: t2.id, from: ["queued"], to: "success", try_number: 1 }], new Date());
    loop.wake((await store.getDagRun("default", "narrow", "r2"))!.id);
    await loop.tick();
    expect(launched).toEqual(["r1", "r2"]);
    expect((await store.getTaskInstance("default", "narrow", "r3", "only"))!.state).toBe("scheduled");
  });
});

describe("SchedulerLoop timed wake-ups", () => {
  test("after a stop and a new start (a new term of leadership), the next cron slot still wakes the loop", async () => {
    const clock = new FakeClock();
    const calls: number[] = [];
    const loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async () => {} },
      logger: silentLogger,
      sweepIntervalMs: 60_000, // no sweep will come to the rescue: only the slot's timer can wake it
      parallelism: 8,
      clock,
      runCreator: {
        createDueRuns: async (now) => {
          calls.push(now.getTime());
          return { created: [], nextDueAt: new Date(now.getTime() + 30_000) };
        },
      },
    });
    const t0 = clock.now().getTime();
    loop.start();
    await loop.idle(); // the first tick armed a wake-up for the next slot
    clock.advance(10_000);
    await loop.stop(); // stepping down before that slot
    loop.start();
    await loop.idle();
    clock.advance(30_000); // the slot after the restart
    await loop.idle();
    await loop.stop();
    expect(calls.map((t) => t - t0)).toEqual([0, 10_000, 40_000]); // start, restart, and the slot after the restart
  });

  test("the periodic sweep comes every interval", async () => {
    const clock = new FakeClock();
    let sweeps = 0;
    const loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async () => {} },
      logger: silentLogger,
      sweepIntervalMs: 5_000,
      parallelism: 8,
      clock,
      runCreator: { createDueRuns: async () => (sweeps++, { created: [], nextDueAt: null }) },
    });
    loop.start();
    await loop.idle();
    for (let i = 0; i < 3; i++) {
      clock.advance(5_000);
      await loop.idle();
    }
    clock.advance(4_999);
    await loop.idle();
    await loop.stop();
    expect(sweeps).toBe(4); // at start, then at 5, 10 and 15 s
    expect(loop.health().status).toBe("healthy");
  });
});

describe("SchedulerLoop wake-ups during a tick", () => {
  test("a run woken while an incremental sweep is reading is planned without another wake-up or sweep", async () => {
    const clock = new FakeClock();
    const spec = parseDagSpec({ dag_id: "late_wake", tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/late.json", pausedOnCreate: false, now: clock.now() });
    let loop: SchedulerLoop;
    let lateRun: DagRunRecord | undefined;
    let armed = false;
    // The run is created, and its wake-up sent, while the second (incremental) sweep awaits its read of
    // changed runs: the moment a wake-up used to be cleared together with the ones that sweep had taken.
    const racing = overriding(store, {
      listRunIdsChangedAfter: async (cursor) => {
        if (!armed) return store.listRunIdsChangedAfter(cursor);
        armed = false;
        const ids = await store.listRunIdsChangedAfter(cursor);
        lateRun = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, clock.now()));
        loop.wake(lateRun.id);
        return ids;
      },
    });
    const agent = new InstantAgent(
      store,
      clock,
      () => "success",
      () => (id) => loop.wake(id),
    );
    loop = new SchedulerLoop({ store: racing, dispatcher: agent, logger: silentLogger, sweepIntervalMs: 60_000, parallelism: 8, clock });
    loop.start();
    await settle(loop, agent, clock); // the first, full sweep
    armed = true;
    loop.wake(); // a second sweep: incremental, so it reads the runs changed since the first
    await settle(loop, agent, clock);
    await loop.stop();
    expect(lateRun).toBeDefined();
    expect(agent.launched).toEqual(["a#1"]);
    expect((await store.getDagRun("default", "late_wake", lateRun!.run_id))!.state).toBe("success");
  });
});
