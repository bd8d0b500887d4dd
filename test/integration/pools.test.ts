/**
 * Pools, clear, mark and depends_on_past through the real SchedulerLoop, the real API and a SQLite store.
 * The "agent" here reports through the store as the RPC service would: it either finishes a task at once
 * or holds it running until the test releases it, so every step is driven by events, not by time: a test
 * waits for the loop and the agent to settle, then reads what a user would see.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createApi } from "../../src/api";
import type { DagSpec, DagRunRecord, TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop } from "../../src/scheduler/loop";
import { buildDagRun } from "../../src/scheduler/trigger";
import type { Store } from "../../src/store";
import { forEachStore } from "../support/stores";

/** Holds dispatched tasks running; `finish` reports one the way an agent would. */
class HoldingAgent {
  launched: string[] = [];
  running = new Map<string, TaskInstanceRecord>();
  instant: ((ti: TaskInstanceRecord) => "success" | "failed" | null) | null = null;
  /** Instant reports not yet written: the loop has settled only once these are done too. */
  reports: Promise<void>[] = [];
  constructor(
    private store: Store,
    private wake: () => (id: number) => void,
  ) {}
  async dispatch(ti: TaskInstanceRecord, _run: DagRunRecord, _spec: DagSpec): Promise<void> {
    this.launched.push(`${ti.run_id}:${ti.task_id}#${ti.try_number}`);
    await this.store.applyTransitions(
      [{ id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number, patch: { start_date: new Date(), hostname: "w1" } }],
      new Date(),
    );
    const result = this.instant?.(ti) ?? null;
    if (result) this.reports.push(Promise.resolve().then(() => this.report(ti, result)));
    else this.running.set(`${ti.run_id}:${ti.task_id}`, ti);
  }
  async finish(key: string, result: "success" | "failed" = "success") {
    const ti = this.running.get(key);
    if (!ti) throw new Error(`${key} is not running; running: ${[...this.running.keys()].join(", ")}`);
    this.running.delete(key);
    await this.report(ti, result);
  }
  private async report(ti: TaskInstanceRecord, result: "success" | "failed") {
    await this.store.applyTransitions(
      [{ id: ti.id, from: ["running"], to: result, try_number: ti.try_number, patch: { end_date: new Date() } }],
      new Date(),
    );
    this.wake()(ti.dag_run_id);
  }
}

let store: Store;
let loop: SchedulerLoop;
let agent: HoldingAgent;
let api: ReturnType<typeof createApi>;
forEachStore((backend) => {
  beforeEach(async () => {
    store = await backend.open();
    await store.migrate();
    agent = new HoldingAgent(store, () => (id) => loop.wake(id));
    loop = new SchedulerLoop({ store, dispatcher: agent, logger: silentLogger, sweepIntervalMs: 60_000, parallelism: 32 });
    api = createApi({ store, tokens: null, version: "test", scheduler: loop });
    loop.start();
  });
  afterEach(async () => {
    await loop.stop();
    await store.close();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await api.request(path, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as any) };
  };

  /** Waits until the loop has no tick in flight and the agent no report pending, then reads: `check` must hold. */
  async function whenSettled<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
    for (;;) {
      await loop.idle();
      if (!agent.reports.length) break;
      await Promise.all(agent.reports.splice(0));
    }
    const v = await read();
    if (!check(v)) throw new Error(`expected ${what} once the scheduler settled; saw ${JSON.stringify(v)}`);
    return v;
  }

  async function dag(raw: Record<string, unknown>) {
    const spec = parseDagSpec(raw);
    return store.upsertDag("default", { spec, fileloc: `/dags/${spec.dag_id}.json`, pausedOnCreate: false, now: new Date() });
  }
  const bash = (task_id: string, extra: Record<string, unknown> = {}) => ({ task_id, operator: "bash", bash_command: "true", ...extra });
  const tiView = async (dagId: string, runId: string) =>
    Object.fromEntries(
      (await store.listTaskInstances("default", dagId, runId)).items.map((t) => [
        t.task_id,
        { state: t.state, note: t.note, try: t.try_number },
      ]),
    );
  const runState = async (dagId: string, runId: string) => (await store.getDagRun("default", dagId, runId))!.state;

  describe("pools in the scheduler loop", () => {
    test("a pool of 2 slots caps concurrency; waiting tasks stay scheduled with a note saying why", async () => {
      expect((await call("POST", "/api/v2/pools", { name: "gpu", slots: 2 })).status).toBe(201);
      await dag({ dag_id: "train", tasks: ["t1", "t2", "t3", "t4"].map((t) => bash(t, { pool: "gpu" })) });
      const runId = (await call("POST", "/api/v2/dags/train/dagRuns", { logical_date: null })).body.dag_run_id;

      const WAIT = "waiting for a slot in pool gpu (0 of 2 open)";
      let view = await whenSettled(
        "two running, two waiting with notes",
        () => tiView("train", runId),
        (v) =>
          Object.values(v).filter((t) => t.state === "running").length === 2 &&
          Object.values(v).filter((t) => t.note === WAIT).length === 2,
      );
      expect(
        Object.values(view)
          .map((t) => t.state)
          .sort(),
      ).toEqual(["running", "running", "scheduled", "scheduled"]);
      expect((await call("GET", "/api/v2/pools/gpu")).body).toMatchObject({ running_slots: 2, scheduled_slots: 2, open_slots: 0 });

      // One finishes: exactly one waiting task takes its slot (the event tick plans waiting runs too); its note is cleared.
      await agent.finish(`${runId}:t1`);
      view = await whenSettled(
        "a third task running",
        () => tiView("train", runId),
        (v) => Object.values(v).filter((t) => t.state === "running").length === 2 && v.t1!.state === "success",
      );
      const started = Object.entries(view)
        .filter(([, t]) => t.state === "running")
        .map(([id]) => id);
      for (const id of started) expect(view[id]!.note).toBeNull();
      expect(
        Object.values(view)
          .filter((t) => t.state === "scheduled")
          .map((t) => t.note),
      ).toEqual([WAIT]);

      for (const id of ["t2", "t3", "t4"]) {
        await whenSettled(`${id} dispatched`, async () => agent.running.has(`${runId}:${id}`), Boolean);
        await agent.finish(`${runId}:${id}`);
      }
      expect(
        await whenSettled(
          "run success",
          () => runState("train", runId),
          (s) => s === "success",
        ),
      ).toBe("success");
      expect(agent.launched).toHaveLength(4);
    });

    test("a run waiting for a pool slot stops competing while its DAG is paused, and takes the slot once unpaused", async () => {
      expect((await call("POST", "/api/v2/pools", { name: "gpu", slots: 1 })).status).toBe(201);
      await dag({ dag_id: "first", tasks: [bash("hold", { pool: "gpu" })] });
      await dag({ dag_id: "train", tasks: [bash("fit", { pool: "gpu" })] });
      const first = (await call("POST", "/api/v2/dags/first/dagRuns", { logical_date: null })).body.dag_run_id;
      await whenSettled("hold running", async () => agent.running.has(`${first}:hold`), Boolean);
      const train = (await call("POST", "/api/v2/dags/train/dagRuns", { logical_date: null })).body.dag_run_id;
      await whenSettled(
        "fit waiting for the slot",
        () => tiView("train", train),
        (v) => v.fit!.note === "waiting for a slot in pool gpu (0 of 1 open)",
      );

      // Paused while it waits, as another replica's API would pause it (no wake-up here): the tick woken by the
      // end of `hold` names only that run, and gates the waiting one by its DAG. The freed slot goes to no one.
      await store.setDagPaused("default", "train", true);
      await agent.finish(`${first}:hold`);
      await whenSettled(
        "first done",
        () => runState("first", first),
        (s) => s === "success",
      );
      expect(agent.launched.filter((l) => l.startsWith(train))).toEqual([]);
      expect((await tiView("train", train)).fit!.state).toBe("scheduled");
      expect((await call("GET", "/api/v2/pools/gpu")).body).toMatchObject({ running_slots: 0, open_slots: 1 });

      expect((await call("PATCH", "/api/v2/dags/train", { is_paused: false })).status).toBe(200);
      await whenSettled(
        "fit running",
        () => tiView("train", train),
        (v) => v.fit!.state === "running",
      );
    });

    test("a task naming a pool that does not exist waits with a note, and starts once the pool is created", async () => {
      await dag({ dag_id: "gpujob", tasks: [bash("fit", { pool: "h100" })] });
      const runId = (await call("POST", "/api/v2/dags/gpujob/dagRuns", { logical_date: null })).body.dag_run_id;
      const view = await whenSettled(
        "a note on fit",
        () => tiView("gpujob", runId),
        (v) => v.fit!.note !== null,
      );
      expect(view.fit).toEqual({
        state: "scheduled",
        note: "pool h100 does not exist; create it with POST /api/v2/pools or set the task's pool to an existing one",
        try: 1,
      });
      await call("POST", "/api/v2/pools", { name: "h100", slots: 1 });
      expect(
        (
          await whenSettled(
            "fit running",
            () => tiView("gpujob", runId),
            (v) => v.fit!.state === "running",
          )
        ).fit!.note,
      ).toBeNull();
    });
  });

  describe("clear and mark in the scheduler loop", () => {
    test("clear re-runs a task and its downstream with new try numbers", async () => {
      agent.instant = () => "success";
      await dag({ dag_id: "chain", tasks: [bash("a"), bash("b", { upstream: ["a"], retries: 1 }), bash("c", { upstream: ["b"] })] });
      const runId = (await call("POST", "/api/v2/dags/chain/dagRuns", { logical_date: null })).body.dag_run_id;
      await whenSettled(
        "first success",
        () => runState("chain", runId),
        (s) => s === "success",
      );

      const r = await call("POST", "/api/v2/dags/chain/clearTaskInstances", {
        dag_run_id: runId,
        task_ids: ["b"],
        include_downstream: true,
        only_failed: false,
        dry_run: false,
      });
      expect(r.body.task_instances.map((t: any) => [t.task_id, t.try_number, t.max_tries])).toEqual([
        ["b", 2, 2],
        ["c", 2, 1],
      ]);
      await whenSettled(
        "success again",
        () => runState("chain", runId),
        (s) => s === "success",
      );
      expect(agent.launched).toEqual([`${runId}:a#1`, `${runId}:b#1`, `${runId}:c#1`, `${runId}:b#2`, `${runId}:c#2`]);
    });

    test("marking a run failed fails its running task, skips the rest, and the agent's try is refused", async () => {
      await dag({ dag_id: "long", tasks: [bash("a"), bash("b", { upstream: ["a"] })] });
      const runId = (await call("POST", "/api/v2/dags/long/dagRuns", { logical_date: null })).body.dag_run_id;
      await whenSettled("a running", async () => agent.running.has(`${runId}:a`), Boolean);
      const r = await call("PATCH", `/api/v2/dags/long/dagRuns/${runId}`, { state: "failed" });
      expect(r.body.state).toBe("failed");
      expect(await tiView("long", runId)).toMatchObject({ a: { state: "failed" }, b: { state: "skipped" } });
      const a = (await store.getTaskInstance("default", "long", runId, "a"))!;
      expect(await store.heartbeat(a.id, a.try_number, new Date())).toBe(false);
      await agent.finish(`${runId}:a`, "success"); // the agent's late report changes nothing
      expect((await tiView("long", runId)).a!.state).toBe("failed");
    });

    test("depends_on_past: the next run waits with a note until the previous run's task is marked success", async () => {
      agent.instant = (ti) => (ti.task_id === "load" && ti.run_id === "jan" ? "failed" : "success");
      const d = await dag({ dag_id: "daily", tasks: [bash("load", { depends_on_past: true }), bash("report", { upstream: ["load"] })] });
      const create = (run_id: string, logical: string) =>
        store.createDagRun(buildDagRun(d, { run_id, run_type: "scheduled", logical_date: new Date(logical) }, new Date()));
      const jan = await create("jan", "2026-01-01T00:00:00Z");
      loop.wake(jan.id);
      await whenSettled(
        "jan failed",
        () => runState("daily", "jan"),
        (s) => s === "failed",
      );
      const feb = await create("feb", "2026-02-01T00:00:00Z");
      loop.wake(feb.id);
      const view = await whenSettled(
        "feb waiting on its past",
        () => tiView("daily", "feb"),
        (v) => v.load!.note !== null,
      );
      expect(view.load).toEqual({
        state: "none",
        note: "depends_on_past: waiting for load in the previous run jan (failed) to succeed or be skipped; clear or mark that task instance to let this run go on",
        try: 1,
      });
      expect(await runState("daily", "feb")).toBe("running"); // waiting, not deadlocked

      expect((await call("PATCH", "/api/v2/dags/daily/dagRuns/jan/taskInstances/load", { new_state: "success" })).status).toBe(200);
      await whenSettled(
        "feb success",
        () => runState("daily", "feb"),
        (s) => s === "success",
      );
      expect((await tiView("daily", "feb")).load).toEqual({ state: "success", note: null, try: 1 });
    });
  });
});
