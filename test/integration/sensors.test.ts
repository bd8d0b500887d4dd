/**
 * Sensors waiting in the control plane, over the real loop, planner and store (both stores): a deferred
 * sensor holds no slot and no process, is checked on a timer of the injected clock, ends the way its
 * answer says (success, timeout failed or skipped) and survives a restart of the scheduler.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DagRecord, DagRunRecord, DagSpec, TaskInstanceRecord } from "../../src/domain";
import { createApi } from "../../src/api";
import { parseDagSpec } from "../../src/domain/schemas";
import { SensorChecks } from "../../src/executors";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop, SensorPoller } from "../../src/scheduler";
import { buildDagRun } from "../../src/scheduler/trigger";
import type { Store } from "../../src/store";
import { FakeClock } from "../support/clock";
import { forEachStore } from "../support/stores";

/** Stands in for an agent: every launched try succeeds at once, reported through the store. */
class InstantAgent {
  launched: string[] = [];
  reports: Promise<void>[] = [];
  constructor(
    private store: Store,
    private clock: FakeClock,
    private wake: (id: number) => void,
  ) {}
  async dispatch(ti: TaskInstanceRecord, _run: DagRunRecord, _spec: DagSpec): Promise<void> {
    this.launched.push(ti.task_id);
    this.reports.push(
      (async () => {
        const now = this.clock.now();
        await this.store.applyTransitions([{ id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number }], now);
        await this.store.applyTransitions(
          [{ id: ti.id, from: ["running"], to: "success", try_number: ti.try_number, patch: { end_date: now } }],
          now,
        );
        this.wake(ti.dag_run_id);
      })(),
    );
  }
}

class Scheduler {
  readonly agent: InstantAgent;
  readonly poller: SensorPoller;
  readonly loop: SchedulerLoop;
  constructor(
    readonly store: Store,
    readonly clock: FakeClock,
  ) {
    this.agent = new InstantAgent(store, clock, (id) => this.loop.wake(id));
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
  /** Until nothing moves without time passing: no tick, no sensor round, no report in flight, no timer due. */
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
  dir = mkdtempSync(join(tmpdir(), "leoflow-sensors-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const LOGICAL = new Date("2026-01-01T00:00:00Z");

async function addDag(store: Store, raw: unknown, now: Date): Promise<DagRecord> {
  return store.upsertDag("default", { spec: parseDagSpec(raw), fileloc: "/dags/x.json", pausedOnCreate: false, now });
}

async function trigger(store: Store, dag: DagRecord, now: Date, runId = "r1") {
  return store.createDagRun(buildDagRun(dag, { run_type: "manual", run_id: runId, logical_date: LOGICAL }, now));
}

async function states(store: Store, dagId: string, runId = "r1") {
  const tis = (await store.listTaskInstances("default", dagId, runId)).items;
  return Object.fromEntries(tis.map((t) => [t.task_id, t.state]));
}

const ti = async (store: Store, dagId: string, taskId: string) => (await store.getTaskInstance("default", dagId, "r1", taskId))!;

forEachStore((backend) => {
  let store: Store;
  beforeEach(async () => {
    store = await backend.open();
    await store.migrate();
  });
  afterEach(async () => store.close());

  test("a file sensor waits deferred without a launch or a slot, is re-checked every poke_interval, and releases its downstream once the file appears", async () => {
    const clock = new FakeClock();
    const dag = await addDag(
      store,
      {
        dag_id: "files",
        max_active_tasks: 1,
        tasks: [
          { task_id: "wait", operator: "sensor", sensor: { kind: "file", path: `${dir}/in/*.csv` }, poke_interval: 30, timeout: 3600 },
          { task_id: "other", operator: "bash", bash_command: "true" },
          { task_id: "load", operator: "bash", bash_command: "true", upstream: ["wait"] },
        ],
      },
      clock.now(),
    );
    const s = new Scheduler(store, clock);
    const run = await trigger(store, dag, clock.now());
    s.loop.start();
    s.loop.wake(run.id);
    await s.settle();
    // The waiting sensor counts against no max_active_tasks (1 here): "other" ran beside it.
    expect(s.agent.launched).toEqual(["other"]);
    expect(await states(store, "files")).toEqual({ wait: "deferred", other: "success", load: "none" });
    expect((await ti(store, "files", "wait")).note).toBe(
      `sensor file waiting; next check ${new Date(clock.now().getTime() + 30_000).toISOString()}; timeout ${new Date(clock.now().getTime() + 3_600_000).toISOString()}`,
    );

    await s.advance(30_000);
    expect(await states(store, "files")).toMatchObject({ wait: "deferred", load: "none" });
    expect((await store.listDueSensors(new Date(clock.now().getTime() + 30_000), 10))[0]?.sensor_checks).toBe(2);

    require("node:fs").mkdirSync(`${dir}/in`);
    writeFileSync(`${dir}/in/orders.csv`, "id\n1\n");
    await s.advance(30_000);
    expect(await states(store, "files")).toEqual({ wait: "success", other: "success", load: "success" });
    expect(s.agent.launched).toEqual(["other", "load"]);
    expect((await store.getDagRunById(run.id))!.state).toBe("success");
    await s.loop.stop();
  });

  describe("a pool's include_deferred (Airflow's): its deferred sensors hold their slots", () => {
    /** A pool "ext" of one slot; sensors wait for files named after their task ids, in the pool with a high priority. */
    async function pooled(includeDeferred: boolean, tasks: object[]) {
      const clock = new FakeClock();
      await store.createPool("default", { name: "ext", slots: 1, description: null, include_deferred: includeDeferred });
      const dag = await addDag(store, { dag_id: "pooled", tasks }, clock.now());
      const s = new Scheduler(store, clock);
      const api = createApi({ store, tokens: null, version: "test", scheduler: s.loop });
      const run = await trigger(store, dag, clock.now());
      s.loop.start();
      s.loop.wake(run.id);
      await s.settle();
      const pool = async () => (await api.request("/api/v2/pools/ext")).json();
      return { s, pool };
    }
    const waitFor = (task_id: string) => ({
      task_id,
      operator: "sensor",
      pool: "ext",
      priority_weight: 10,
      sensor: { kind: "file", path: `${dir}/${task_id}` },
      poke_interval: 30,
    });
    const other = { task_id: "other", operator: "bash", bash_command: "true", pool: "ext" };

    test("with it, a task of the pool waits while a sensor holds the slot, and runs once the sensor ends", async () => {
      const { s, pool } = await pooled(true, [waitFor("wait"), other]);
      expect(await states(store, "pooled")).toEqual({ wait: "deferred", other: "scheduled" });
      expect((await ti(store, "pooled", "other")).note).toBe("waiting for a slot in pool ext (0 of 1 open)");
      expect(await pool()).toMatchObject({ include_deferred: true, deferred_slots: 1, occupied_slots: 1, open_slots: 0 });

      writeFileSync(`${dir}/wait`, "");
      await s.advance(30_000);
      expect(await states(store, "pooled")).toEqual({ wait: "success", other: "success" });
      expect(await pool()).toMatchObject({ deferred_slots: 0, open_slots: 1 });
      await s.loop.stop();
    });

    test("with it, a sensor waits for a slot before it defers (Airflow's sensor runs, taking one, first)", async () => {
      const { s, pool } = await pooled(true, [waitFor("a"), waitFor("b")]);
      expect(await states(store, "pooled")).toEqual({ a: "deferred", b: "scheduled" });
      expect((await ti(store, "pooled", "b")).note).toBe("waiting for a slot in pool ext (0 of 1 open)");
      expect(await pool()).toMatchObject({ deferred_slots: 1, open_slots: 0 });

      writeFileSync(`${dir}/a`, "");
      await s.advance(30_000);
      expect(await states(store, "pooled")).toEqual({ a: "success", b: "deferred" });
      writeFileSync(`${dir}/b`, "");
      await s.advance(30_000);
      expect(await states(store, "pooled")).toEqual({ a: "success", b: "success" });
      await s.loop.stop();
    });

    test("without it, deferred sensors hold nothing: all wait at once and the pool's task runs beside them", async () => {
      const { s, pool } = await pooled(false, [waitFor("a"), waitFor("b"), other]);
      expect(await states(store, "pooled")).toEqual({ a: "deferred", b: "deferred", other: "success" });
      expect(await pool()).toMatchObject({ include_deferred: false, deferred_slots: 2, occupied_slots: 0, open_slots: 1 });
      await s.loop.stop();
    });
  });

  test.each([
    [false, "failed", "upstream_failed", "failed"],
    [true, "skipped", "skipped", "success"],
  ] as const)(
    "at its timeout (soft_fail %p) a sensor with retries left is %s without a retry, downstream %s, the run %s",
    async (softFail, sensorState, downstream, runState) => {
      const clock = new FakeClock();
      const dag = await addDag(
        store,
        {
          dag_id: "late",
          tasks: [
            {
              task_id: "wait",
              operator: "sensor",
              sensor: { kind: "file", path: `${dir}/never` },
              poke_interval: 20,
              timeout: 50,
              soft_fail: softFail,
              // A timeout is never retried (Airflow's AirflowSensorTimeout), whatever retries say.
              retries: 2,
              retry_delay: 1,
            },
            { task_id: "after", operator: "bash", bash_command: "true", upstream: ["wait"] },
          ],
        },
        clock.now(),
      );
      const s = new Scheduler(store, clock);
      const run = await trigger(store, dag, clock.now());
      s.loop.start();
      s.loop.wake(run.id);
      await s.settle();
      await s.advance(20_000);
      await s.advance(20_000);
      expect((await states(store, "late")).wait).toBe("deferred");
      await s.advance(10_000); // checked at the timeout itself, not a poke later
      expect(await states(store, "late")).toEqual({ wait: sensorState, after: downstream });
      expect((await ti(store, "late", "wait")).note).toBe("sensor timed out after 50 s (4 checks)");
      await s.advance(5_000); // past the retry delay: still no second try
      expect((await states(store, "late")).wait).toBe(sensorState);
      expect((await ti(store, "late", "wait")).try_number).toBe(1);
      expect((await store.getDagRunById(run.id))!.state).toBe(runState);
      await s.loop.stop();
    },
  );

  test("an external task sensor waits for another DAG's task of the same logical date", async () => {
    const clock = new FakeClock();
    const upstream = await addDag(
      store,
      { dag_id: "producer", tasks: [{ task_id: "publish", operator: "bash", bash_command: "true" }] },
      clock.now(),
    );
    const dag = await addDag(
      store,
      {
        dag_id: "consumer",
        tasks: [
          {
            task_id: "wait",
            operator: "sensor",
            sensor: { kind: "external_task", external_dag_id: "producer", external_task_id: "publish" },
            poke_interval: 60,
          },
        ],
      },
      clock.now(),
    );
    const s = new Scheduler(store, clock);
    const run = await trigger(store, dag, clock.now());
    s.loop.start();
    s.loop.wake(run.id);
    await s.settle();
    await s.advance(60_000);
    expect(await states(store, "consumer")).toEqual({ wait: "deferred" });
    expect((await ti(store, "consumer", "wait")).note).toContain("(no timeout set: Airflow's default of 7 days)");

    const other = await trigger(store, upstream, clock.now());
    s.loop.wake(other.id);
    await s.settle();
    expect(await states(store, "producer")).toEqual({ publish: "success" });
    await s.advance(60_000);
    expect(await states(store, "consumer")).toEqual({ wait: "success" });
    await s.loop.stop();
  });

  test("a time sensor is checked when it is due, not every poke_interval; a restarted scheduler picks up a waiting sensor", async () => {
    const clock = new FakeClock(LOGICAL);
    const dag = await addDag(
      store,
      { dag_id: "later", tasks: [{ task_id: "wait", operator: "sensor", sensor: { kind: "time_delta", delta: 600 }, poke_interval: 5 }] },
      clock.now(),
    );
    const first = new Scheduler(store, clock);
    const run = await trigger(store, dag, clock.now());
    first.loop.start();
    first.loop.wake(run.id);
    await first.settle();
    expect((await store.listDueSensors(new Date(LOGICAL.getTime() + 600_000), 10)).map((d) => d.next_check_at)).toEqual([
      new Date(LOGICAL.getTime() + 600_000),
    ]);
    await first.loop.stop(); // the leader goes away while the sensor waits

    const second = new Scheduler(store, clock);
    second.loop.start();
    await second.settle();
    expect(await states(store, "later")).toEqual({ wait: "deferred" });
    await second.advance(600_000);
    expect(await states(store, "later")).toEqual({ wait: "success" });
    expect((await store.getDagRunById(run.id))!.state).toBe("success");
    await second.loop.stop();
  });
});

describe("the file check", () => {
  test("an absolute path or a glob under it", async () => {
    const { fileExists } = await import("../../src/executors");
    expect(await fileExists(`${dir}/a.txt`)).toBe(false);
    expect(await fileExists(`${dir}/missing/*.txt`)).toBe(false);
    writeFileSync(`${dir}/a.txt`, "x");
    expect(await fileExists(`${dir}/a.txt`)).toBe(true);
    expect(await fileExists(`${dir}/*.txt`)).toBe(true);
    expect(await fileExists(`${dir}/*.csv`)).toBe(false);
  });
});

describe("the file check under --sensor-file-roots", () => {
  const ctx = { team: "default", dag_id: "d", run_id: "r", task_id: "t", logical_date: null, run_queued_at: new Date(), now: new Date() };
  const port = { getConnection: async () => null, externalStates: async () => [] };

  test("reads under a root, even a path that leaves and re-enters it; refuses one that leaves it, naming the roots", async () => {
    const checks = new SensorChecks(port, { fileRoots: [`${dir}/in`] });
    require("node:fs").mkdirSync(`${dir}/in`);
    writeFileSync(`${dir}/in/ready`, "");
    writeFileSync(`${dir}/secret`, "");
    expect(await checks.check({ kind: "file", path: `${dir}/in/../in/ready` }, ctx)).toEqual({ done: true });
    expect(await checks.check({ kind: "file", path: `${dir}/in/*` }, ctx)).toEqual({ done: true });
    await expect(checks.check({ kind: "file", path: `${dir}/in/../secret` }, ctx)).rejects.toThrow(
      `file sensor path "${dir}/in/../secret" is outside the folders file sensors may read (${dir}/in)`,
    );
  });
});
