/**
 * User checks in mode reschedule over the real loop, planner, sensor poller, store (both stores) and the
 * RPC's reschedule rule, with an injected clock: each "not yet" ends the try up_for_reschedule (no slot held,
 * try_number kept); the poller hands it back to dispatch when its next check is due; at the timeout it fails
 * without spending its retries.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DagRecord, DagRunRecord, DagSpec, TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { SensorChecks } from "../../src/executors";
import { silentLogger } from "../../src/observability";
import { rescheduleTry } from "../../src/rpc";
import { SchedulerLoop, SensorPoller } from "../../src/scheduler";
import { buildDagRun } from "../../src/scheduler/trigger";
import type { Store } from "../../src/store";
import { FakeClock } from "../support/clock";
import { forEachStore } from "../support/stores";

/**
 * Stands in for agents: a launched sensor's check passes once `flag` exists, else reports "not yet" as the
 * RPC does; any other task succeeds at once. Register keeps a rescheduled sensor's first start, as the RPC's does.
 */
class CheckingAgent {
  launched: string[] = [];
  reports: Promise<void>[] = [];
  constructor(
    private store: Store,
    private clock: FakeClock,
    private flag: string,
    private wake: (id: number) => void,
  ) {}
  async dispatch(queued: TaskInstanceRecord, _run: DagRunRecord, spec: DagSpec): Promise<void> {
    this.launched.push(`${queued.task_id}#${queued.try_number}`);
    const sensor = spec.tasks.find((t) => t.task_id === queued.task_id)?.operator === "sensor";
    this.reports.push(
      (async () => {
        const now = this.clock.now();
        const { store } = this;
        const [ran] = await store.applyTransitions(
          [
            {
              id: queued.id,
              from: ["queued"],
              to: "running",
              try_number: queued.try_number,
              patch: { start_date: queued.start_date ?? now },
            },
          ],
          now,
        );
        if (!ran) return;
        const running = (await store.getTaskInstanceById(queued.id))!;
        if (sensor && !existsSync(this.flag)) await rescheduleTry(store, running, now);
        else
          await store.applyTransitions(
            [{ id: queued.id, from: ["running"], to: "success", try_number: queued.try_number, patch: { end_date: now } }],
            now,
          );
        this.wake(queued.dag_run_id);
      })(),
    );
  }
}

class Scheduler {
  readonly agent: CheckingAgent;
  readonly poller: SensorPoller;
  readonly loop: SchedulerLoop;
  constructor(
    store: Store,
    flag: string,
    readonly clock: FakeClock,
  ) {
    this.agent = new CheckingAgent(store, clock, flag, (id) => this.loop.wake(id));
    this.poller = new SensorPoller({
      store,
      checker: new SensorChecks(store),
      clock,
      logger: silentLogger,
      wake: (id) => this.loop.wake(id),
    });
    this.loop = new SchedulerLoop({
      store,
      dispatcher: this.agent,
      logger: silentLogger,
      sweepIntervalMs: 600_000,
      parallelism: 8,
      clock,
      sensors: this.poller,
    });
  }
  async settle(): Promise<void> {
    for (;;) {
      await this.loop.idle();
      await this.poller.idle();
      if (this.agent.reports.length) await Promise.all(this.agent.reports.splice(0));
      else if (!this.clock.advance(0)) {
        await this.loop.idle();
        await this.poller.idle();
        if (!this.agent.reports.length) return;
      }
    }
  }
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.settle();
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "leoflow-reschedule-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const LOGICAL = new Date("2026-01-01T00:00:00Z");

async function setUp(store: Store, clock: FakeClock, sensor: Record<string, unknown>) {
  const spec = parseDagSpec({
    dag_id: "resched",
    max_active_tasks: 1,
    tasks: [
      {
        task_id: "wait",
        operator: "sensor",
        sensor: { kind: "bash", bash_command: "exit 75" },
        mode: "reschedule",
        retries: 2,
        retry_delay: 1,
        ...sensor,
      },
      { task_id: "other", operator: "bash", bash_command: "true" },
      { task_id: "load", operator: "bash", bash_command: "true", upstream: ["wait"] },
    ],
  });
  const dag: DagRecord = await store.upsertDag("default", { spec, fileloc: "/dags/x.json", pausedOnCreate: false, now: clock.now() });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", run_id: "r1", logical_date: LOGICAL }, clock.now()));
  const s = new Scheduler(store, join(dir, "flag"), clock);
  s.loop.start();
  s.loop.wake(run.id);
  await s.settle();
  return { s, run };
}

const ti = async (store: Store, taskId: string) => (await store.getTaskInstance("default", "resched", "r1", taskId))!;

forEachStore((backend) => {
  let store: Store;
  beforeEach(async () => {
    store = await backend.open();
    await store.migrate();
  });
  afterEach(async () => store.close());

  test("a check that says not yet ends its try up_for_reschedule without holding a slot, and checks again on the same try when due", async () => {
    const clock = new FakeClock();
    const { s, run } = await setUp(store, clock, { poke_interval: 30, timeout: 3600 });
    const waiting = await ti(store, "wait");
    expect(waiting.state).toBe("up_for_reschedule");
    expect(waiting.note).toStartWith("sensor bash waiting; next check ");
    // max_active_tasks is 1: "other" ran while the sensor waited, so the sensor held no slot.
    expect((await ti(store, "other")).state).toBe("success");
    await s.advance(29_000);
    expect(s.agent.launched.filter((l) => l.startsWith("wait"))).toEqual(["wait#1"]);
    await s.advance(1_000);
    expect(s.agent.launched.filter((l) => l.startsWith("wait"))).toEqual(["wait#1", "wait#1"]);
    expect((await ti(store, "wait")).state).toBe("up_for_reschedule");
    writeFileSync(join(dir, "flag"), "");
    await s.advance(30_000);
    const done = await ti(store, "wait");
    expect(done.state).toBe("success");
    expect(done.try_number).toBe(1);
    expect(done.start_date).toEqual(waiting.start_date); // the first try's start is kept across reschedules
    expect((await ti(store, "load")).state).toBe("success");
    expect((await store.getDagRunById(run.id))!.state).toBe("success");
    await s.loop.stop();
  });

  test("the timeout counts from the first check: the sensor then fails without spending its retries", async () => {
    const clock = new FakeClock();
    const { s, run } = await setUp(store, clock, { poke_interval: 20, timeout: 50 });
    await s.advance(20_000);
    await s.advance(20_000);
    expect((await ti(store, "wait")).state).toBe("up_for_reschedule");
    await s.advance(10_000); // the last check runs at the timeout itself
    await s.advance(5_000); // past the retry delay: still no second try
    const failed = await ti(store, "wait");
    expect(failed.state).toBe("failed");
    expect(failed.try_number).toBe(1);
    expect(failed.note).toBe("sensor timed out after 50 s (4 checks)");
    expect(s.agent.launched.filter((l) => l.startsWith("wait"))).toEqual(["wait#1", "wait#1", "wait#1", "wait#1"]);
    expect((await ti(store, "load")).state).toBe("upstream_failed");
    expect((await store.getDagRunById(run.id))!.state).toBe("failed");
    await s.loop.stop();
  });
});
