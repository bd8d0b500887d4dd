/**
 * Dynamic task mapping through the scheduler loop, on SQLite and Postgres: a mapped task waits at map_index -1
 * until its upstream's XCom is known, expands into one instance per item, each pushes its own XCom, and the
 * downstream runs once all instances are done. An empty list skips the mapped task (and, by all_success, its
 * downstream); a non-list and a list over --max-map-length fail it with the reason. The agent here is a
 * stand-in that writes results through the store as the RPC service would; the e2e test runs real processes.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { guardedStore, openStore, type Store } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";
import type { TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { SchedulerLoop } from "../../src/scheduler/loop";
import { buildDagRun } from "../../src/scheduler/trigger";
import { silentLogger } from "../../src/observability";
import { FakeClock } from "../support/clock";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";

/** Reports every dispatched try as a success at once, after pushing what `push` returns as its return_value. */
function instantAgent(store: Store, clock: FakeClock, push: (ti: TaskInstanceRecord) => unknown, wake: () => (id: number) => void) {
  const launched: string[] = [];
  const reports: Promise<void>[] = [];
  return {
    launched,
    reports,
    async dispatch(ti: TaskInstanceRecord): Promise<void> {
      launched.push(ti.map_index < 0 ? ti.task_id : `${ti.task_id}[${ti.map_index}]`);
      reports.push(
        (async () => {
          const now = clock.now();
          await store.applyTransitions([{ id: ti.id, from: ["queued"], to: "running", try_number: 1, patch: { start_date: now } }], now);
          const value = push(ti);
          if (value !== undefined) {
            const key = {
              team: ti.team,
              dag_id: ti.dag_id,
              run_id: ti.run_id,
              task_id: ti.task_id,
              map_index: ti.map_index,
              key: "return_value",
            };
            await store.setXCom(key, value, now);
          }
          await store.applyTransitions([{ id: ti.id, from: ["running"], to: "success", try_number: 1, patch: { end_date: now } }], now);
          wake()(ti.dag_run_id);
        })(),
      );
    },
  };
}

function mappingSuite(makeStore: () => Promise<Store>) {
  let store: Store;
  beforeEach(async () => {
    store = await makeStore();
    await store.migrate();
  });
  afterEach(async () => store.close());

  /** Runs a DAG where `make` returns `list`, `each` maps over it (x → x * 10) and `total` follows `each`. */
  async function runMapped(list: unknown, opts: { maxMapLength?: number; extra?: object } = {}) {
    const clock = new FakeClock();
    const spec = parseDagSpec({
      dag_id: "mapped",
      tasks: [
        { task_id: "make", operator: "bash", bash_command: "true" },
        { task_id: "each", operator: "bash", bash_command: "true", expand: { x: { xcom: "make" } }, ...opts.extra },
        { task_id: "total", operator: "bash", bash_command: "true", upstream: ["each"] },
      ],
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/m.json", pausedOnCreate: false, now: clock.now() });
    let loop: SchedulerLoop;
    const agent = instantAgent(
      store,
      clock,
      (ti) => (ti.task_id === "make" ? list : ti.task_id === "each" ? ti.map_index * 10 : undefined),
      () => (id) => loop.wake(id),
    );
    loop = new SchedulerLoop({
      store,
      dispatcher: agent,
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 64,
      clock,
      maxMapLength: opts.maxMapLength,
    });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, clock.now()));
    loop.start();
    loop.wake(run.id);
    for (;;) {
      await loop.idle();
      if (agent.reports.length) await Promise.all(agent.reports.splice(0));
      else if (!clock.advance(0)) break;
    }
    await loop.stop();
    const tis = (await store.listTaskInstances("default", "mapped", run.run_id)).items;
    const each = tis.filter((t) => t.task_id === "each").sort((a, b) => a.map_index - b.map_index);
    return { run: (await store.getDagRunById(run.id))!, agent, tis, each };
  }

  test("a map over an upstream's list of 50: 50 instances, each its own XCom, then the downstream once", async () => {
    const { run, agent, each } = await runMapped(Array.from({ length: 50 }, (_, i) => `item-${i}`));
    expect(run.state).toBe("success");
    expect(each.map((t) => t.map_index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Set(each.map((t) => t.state))).toEqual(new Set(["success"]));
    expect(agent.launched[0]).toBe("make");
    expect(agent.launched.at(-1)).toBe("total");
    expect(agent.launched.filter((l) => l.startsWith("each["))).toHaveLength(50);
    const values = await store.listMappedXComs({
      team: "default",
      dag_id: "mapped",
      run_id: run.run_id,
      task_id: "each",
      key: "return_value",
    });
    expect(values.map((x) => x.value)).toEqual(Array.from({ length: 50 }, (_, i) => i * 10));
  });

  test("an empty list skips the mapped task, and all_success skips its downstream, as in Airflow", async () => {
    const { run, tis } = await runMapped([]);
    expect(Object.fromEntries(tis.map((t) => [`${t.task_id}${t.map_index}`, t.state]))).toEqual({
      "make-1": "success",
      "each-1": "skipped",
      "total-1": "skipped",
    });
    expect(tis.find((t) => t.task_id === "each")?.note).toBe("mapped over an empty list (x): no instances to run");
    expect(run.state).toBe("success");
  });

  test("an XCom neither a list nor a dict fails the mapped task naming the upstream and the type; no retry", async () => {
    const { run, tis } = await runMapped("a,b", { extra: { retries: 2 } });
    const each = tis.find((t) => t.task_id === "each")!;
    expect([each.state, each.note]).toEqual([
      "failed",
      "task each expands over the XCom of upstream make, which is a string, not a list or an object",
    ]);
    expect(tis.find((t) => t.task_id === "total")?.state).toBe("upstream_failed");
    expect(run.state).toBe("failed");
  });

  test("an upstream that pushed nothing makes the mapped task upstream_failed (the upstream's failure, as Airflow's), not failed", async () => {
    const { run, tis } = await runMapped(undefined);
    const each = tis.find((t) => t.task_id === "each")!;
    expect([each.state, each.note, each.start_date]).toEqual([
      "upstream_failed",
      "task each expands over the XCom of upstream make, which pushed none",
      null,
    ]);
    expect(tis.find((t) => t.task_id === "total")?.state).toBe("upstream_failed");
    expect(run.state).toBe("failed");
  });

  test("a list longer than --max-map-length fails the mapped task with the count and the limit", async () => {
    const { tis } = await runMapped(
      Array.from({ length: 1500 }, (_, i) => i),
      { maxMapLength: 1024 },
    );
    expect(tis.filter((t) => t.task_id === "each").map((t) => [t.state, t.note])).toEqual([
      ["failed", "task each expands to 1,500 items, over the limit of 1024 (--max-map-length)"],
    ]);
  });

  test("one failed instance fails the downstream by all_success; the others still ran", async () => {
    const clock = new FakeClock();
    const spec = parseDagSpec({
      dag_id: "lit",
      tasks: [
        { task_id: "each", operator: "bash", bash_command: "true", expand: { x: [1, 2, 3] } },
        { task_id: "done", operator: "bash", bash_command: "true", upstream: ["each"], trigger_rule: "all_done" },
        { task_id: "strict", operator: "bash", bash_command: "true", upstream: ["each"] },
      ],
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/l.json", pausedOnCreate: false, now: clock.now() });
    let loop: SchedulerLoop;
    const reports: Promise<void>[] = [];
    const dispatcher = {
      async dispatch(ti: TaskInstanceRecord) {
        reports.push(
          (async () => {
            const now = clock.now();
            await store.applyTransitions([{ id: ti.id, from: ["queued"], to: "running", try_number: 1 }], now);
            const to = ti.task_id === "each" && ti.map_index === 1 ? "failed" : "success";
            await store.applyTransitions([{ id: ti.id, from: ["running"], to, try_number: 1, patch: { end_date: now } }], now);
            loop.wake(ti.dag_run_id);
          })(),
        );
      },
    };
    loop = new SchedulerLoop({ store, dispatcher, logger: silentLogger, sweepIntervalMs: 60_000, parallelism: 8, clock });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, clock.now()));
    loop.start();
    loop.wake(run.id);
    for (;;) {
      await loop.idle();
      if (reports.length) await Promise.all(reports.splice(0));
      else if (!clock.advance(0)) break;
    }
    await loop.stop();
    const tis = (await store.listTaskInstances("default", "lit", run.run_id)).items;
    const states = Object.fromEntries(tis.map((t) => [`${t.task_id}${t.map_index}`, t.state]));
    expect(states).toEqual({ each0: "success", each1: "failed", each2: "success", "done-1": "success", "strict-1": "upstream_failed" });
    // all_success fails fast (as in Airflow): the note is written when the failed instance is seen, so the
    // other instances may still be running then; it always names the failure.
    expect(tis.find((t) => t.task_id === "strict")?.note).toMatch(/^trigger rule all_success: each=\[.*failed×1.*\]$/);
  });

  test("max_active_tis_per_dag holds the other instances back with a note until one finishes", async () => {
    const clock = new FakeClock();
    const spec = parseDagSpec({
      dag_id: "cap",
      tasks: [{ task_id: "each", operator: "bash", bash_command: "true", expand: { x: [1, 2, 3, 4, 5] }, max_active_tis_per_dag: 2 }],
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/c.json", pausedOnCreate: false, now: clock.now() });
    const launched: TaskInstanceRecord[] = [];
    const loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async (ti: TaskInstanceRecord) => void launched.push(ti) },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 8,
      clock,
    });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, clock.now()));
    loop.start();
    loop.wake(run.id);
    await loop.idle();
    const tis = async () => (await store.listTaskInstances("default", "cap", run.run_id)).items.sort((a, b) => a.map_index - b.map_index);
    expect((await tis()).map((t) => t.state)).toEqual(["queued", "queued", "scheduled", "scheduled", "scheduled"]);
    expect((await tis())[2]!.note).toBe("max_active_tis_per_dag (2) reached for task each of DAG cap");
    const first = launched[0]!;
    await store.applyTransitions([{ id: first.id, from: ["queued"], to: "success", try_number: 1 }], clock.now());
    loop.wake(run.id);
    await loop.idle();
    await loop.stop();
    expect((await tis()).map((t) => t.state).sort()).toEqual(["queued", "queued", "scheduled", "scheduled", "success"]);
  });
}

describe("dynamic task mapping through the loop: sqlite", () => mappingSuite(async () => openStore("sqlite::memory:")));

describePg("dynamic task mapping through the loop: postgres", () => {
  const schemas = freshSchemas();
  mappingSuite(async () => guardedStore(new PostgresStore({ url: pgUrl(), schema: schemas.next(), max: 4 })));
});
