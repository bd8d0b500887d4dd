/**
 * CronRunCreator against a real SQLite store with an injected `now`: which scheduled runs exist after each
 * call, as a user would list them (run ids, data intervals), across catchup, downtime, limits and pauses.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { NotFoundError } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { silentLogger } from "../../../src/observability";
import { CronRunCreator, backfillSkips } from "../../../src/scheduler";
import { openStore, type Store } from "../../../src/store";
import { overriding } from "../../../src/store/decorate";

let store: Store;
let creator: CronRunCreator;
beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
  creator = new CronRunCreator({ store, logger: silentLogger });
});

const d = (s: string) => new Date(s);

async function addDag(extra: Record<string, unknown>, paused = false) {
  const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }], ...extra });
  return store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: paused, now: d("2026-01-01T00:00:00Z") });
}

/** The DAG's runs as "run_id [start → end] state", oldest first. */
async function runs(): Promise<string[]> {
  const page = await store.listDagRuns("default", { dag_id: "etl", order_by: "id" });
  return page.items.map(
    (r) =>
      `${r.run_id} [${r.data_interval_start?.toISOString().slice(0, 13)} → ${r.data_interval_end?.toISOString().slice(0, 13)}] ${r.state}`,
  );
}

async function finishAll(state: "success" | "failed" = "success") {
  for (const r of (await store.listDagRuns("default", { dag_id: "etl", state: ["queued", "running"] })).items)
    await store.setDagRunState(r.id, ["queued", "running"], state, new Date());
}

describe("CronRunCreator", () => {
  test("catchup=true: every missed slot since start_date, oldest first, with Airflow's run ids and intervals", async () => {
    await addDag({ schedule: "@daily", start_date: "2026-01-01T00:00:00Z", catchup: true });
    const res = await creator.createDueRuns(d("2026-01-03T10:00:00Z"));
    expect(res.created).toHaveLength(2);
    expect(res.nextDueAt).toEqual(d("2026-01-04T00:00:00Z"));
    expect(await runs()).toEqual([
      "scheduled__2026-01-01T00:00:00+00:00 [2026-01-01T00 → 2026-01-02T00] queued",
      "scheduled__2026-01-02T00:00:00+00:00 [2026-01-02T00 → 2026-01-03T00] queued",
    ]);
    const run = (await store.getDagRun("default", "etl", "scheduled__2026-01-01T00:00:00+00:00"))!;
    expect(run.run_type).toBe("scheduled");
    expect(run.logical_date).toEqual(d("2026-01-01T00:00:00Z"));
  });

  test("catchup=false: only the latest complete interval", async () => {
    await addDag({ schedule: "@daily", start_date: "2026-01-01T00:00:00Z", catchup: false });
    await creator.createDueRuns(d("2026-01-03T10:00:00Z"));
    expect(await runs()).toEqual(["scheduled__2026-01-02T00:00:00+00:00 [2026-01-02T00 → 2026-01-03T00] queued"]);
  });

  test("idempotent: a second sweep, or a restarted scheduler, creates nothing twice", async () => {
    await addDag({ schedule: "@daily", start_date: "2026-01-01T00:00:00Z", catchup: true });
    await creator.createDueRuns(d("2026-01-03T10:00:00Z"));
    const again = await creator.createDueRuns(d("2026-01-03T10:00:01Z"));
    const restarted = await new CronRunCreator({ store, logger: silentLogger }).createDueRuns(d("2026-01-03T11:00:00Z"));
    expect(again.created).toEqual([]);
    expect(restarted.created).toEqual([]);
    expect(await runs()).toHaveLength(2);
  });

  test("a scheduler down for a day (hourly, catchup=false) creates only the latest hour on restart", async () => {
    await addDag({ schedule: "@hourly", start_date: "2026-01-01T00:00:00Z", catchup: false });
    await creator.createDueRuns(d("2026-01-05T09:10:00Z"));
    await finishAll();
    await creator.createDueRuns(d("2026-01-06T09:30:00Z")); // a day later
    expect(await runs()).toEqual([
      "scheduled__2026-01-05T08:00:00+00:00 [2026-01-05T08 → 2026-01-05T09] success",
      "scheduled__2026-01-06T08:00:00+00:00 [2026-01-06T08 → 2026-01-06T09] queued",
    ]);
  });

  test("a scheduler down for a day (hourly, catchup=true) fills the missed hours as max_active_runs allows, in order", async () => {
    await addDag({ schedule: "@hourly", start_date: "2026-01-05T08:00:00Z", catchup: true, max_active_runs: 10 });
    await creator.createDueRuns(d("2026-01-05T09:10:00Z"));
    await finishAll();
    const restart = d("2026-01-06T09:30:00Z");
    const first = await creator.createDueRuns(restart);
    expect(first).toMatchObject({ waitingForRoom: true }); // a run's end should create more
    expect(first.created).toHaveLength(10); // 24 missed; 10 fit under max_active_runs
    expect(await creator.createDueRuns(restart)).toMatchObject({ created: [], waitingForRoom: true }); // full: nothing more yet
    await finishAll();
    expect((await creator.createDueRuns(restart)).created).toHaveLength(10);
    await finishAll();
    const last = await creator.createDueRuns(restart);
    expect(last.created).toHaveLength(4);
    expect(last.waitingForRoom).toBe(false); // every missed hour has its run: a run's end needs no new call
    const all = await runs();
    expect(all).toHaveLength(25);
    expect(all.slice(0, 2)).toEqual([
      "scheduled__2026-01-05T08:00:00+00:00 [2026-01-05T08 → 2026-01-05T09] success",
      "scheduled__2026-01-05T09:00:00+00:00 [2026-01-05T09 → 2026-01-05T10] success",
    ]);
    expect(all.at(-1)).toBe("scheduled__2026-01-06T08:00:00+00:00 [2026-01-06T08 → 2026-01-06T09] queued");
  });

  test("max_active_runs counts manual runs too, but not backfill runs", async () => {
    const dag = await addDag({ schedule: "@daily", start_date: "2026-01-01T00:00:00Z", catchup: true, max_active_runs: 2 });
    const manual = {
      team: "default",
      run_type: "manual" as const,
      logical_date: null,
      data_interval_start: null,
      data_interval_end: null,
      conf: {},
    };
    await store.createDagRun({
      ...manual,
      dag_id: "etl",
      run_id: "manual__x",
      version_id: dag.version_id,
      queued_at: new Date(),
      tasks: [],
    });
    await store.createBackfill({
      team: "default",
      dag_id: "etl",
      from_date: d("2025-12-01T00:00:00Z"),
      to_date: d("2025-12-01T00:00:00Z"),
      run_backwards: false,
      dag_run_conf: null,
      reprocess_behavior: "none",
      skip_existing: backfillSkips("none"),
      max_active_runs: 1,
      now: new Date(),
      runs: [
        {
          ...manual,
          run_type: "backfill",
          logical_date: d("2025-12-01T00:00:00Z"),
          dag_id: "etl",
          run_id: "backfill__x",
          version_id: dag.version_id,
          queued_at: new Date(),
          tasks: [],
        },
      ],
    });
    const res = await creator.createDueRuns(d("2026-01-10T00:00:00Z"));
    expect(res.created).toHaveLength(1);
  });

  test("paused and manual-only DAGs get no runs; unpausing resumes where the schedule stands", async () => {
    await addDag({ schedule: "@daily", start_date: "2026-01-01T00:00:00Z", catchup: false }, true);
    expect((await creator.createDueRuns(d("2026-01-03T10:00:00Z"))).created).toEqual([]);
    await store.setDagPaused("default", "etl", false);
    await creator.createDueRuns(d("2026-01-05T10:00:00Z"));
    expect(await runs()).toEqual(["scheduled__2026-01-04T00:00:00+00:00 [2026-01-04T00 → 2026-01-05T00] queued"]);
  });

  test("end_date: no runs for slots starting after it, and no next wake-up", async () => {
    await addDag({ schedule: "@daily", start_date: "2026-01-01T00:00:00Z", end_date: "2026-01-02T00:00:00Z", catchup: true });
    const res = await creator.createDueRuns(d("2026-01-10T00:00:00Z"));
    expect(res.created).toHaveLength(2);
    expect(res.nextDueAt).toBeNull();
  });

  test("@once: one run at start_date, then never again", async () => {
    await addDag({ schedule: "@once", start_date: "2026-01-02T00:00:00Z" });
    expect(await creator.createDueRuns(d("2026-01-01T00:00:00Z"))).toEqual({
      created: [],
      nextDueAt: d("2026-01-02T00:00:00Z"),
      waitingForRoom: false,
    });
    await creator.createDueRuns(d("2026-01-02T00:00:00Z"));
    await finishAll();
    expect((await creator.createDueRuns(d("2026-02-01T00:00:00Z"))).created).toEqual([]);
    expect(await runs()).toEqual(["scheduled__2026-01-02T00:00:00+00:00 [2026-01-02T00 → 2026-01-02T00] success"]);
  });

  test("a DAG whose runs cannot be built (required param) is reported and skipped, others go on", async () => {
    // parseDagSpec refuses a scheduled DAG with a required param now; one stored by an earlier version may have one.
    const stored = parseDagSpec({
      dag_id: "etl",
      schedule: "@daily",
      start_date: "2026-01-01T00:00:00Z",
      tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
    });
    stored.params = { who: { type: "string" } };
    await store.upsertDag("default", { spec: stored, fileloc: "/dags/etl.json", pausedOnCreate: false, now: d("2026-01-01T00:00:00Z") });
    const spec = parseDagSpec({
      dag_id: "ok",
      schedule: "@daily",
      start_date: "2026-01-01T00:00:00Z",
      tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
    });
    await store.upsertDag("default", { spec, fileloc: "/dags/ok.json", pausedOnCreate: false, now: new Date() });
    const res = await creator.createDueRuns(d("2026-01-03T10:00:00Z"));
    expect(res.created).toHaveLength(1);
    expect(await runs()).toEqual([]);
  });

  test("finished backfills are marked completed on the next call", async () => {
    const dag = await addDag({ schedule: "@daily", start_date: "2026-01-01T00:00:00Z" });
    const { backfill, created } = await store.createBackfill({
      team: "default",
      dag_id: "etl",
      from_date: d("2025-12-01T00:00:00Z"),
      to_date: d("2025-12-01T00:00:00Z"),
      run_backwards: false,
      dag_run_conf: null,
      reprocess_behavior: "none",
      skip_existing: backfillSkips("none"),
      max_active_runs: 1,
      now: new Date(),
      runs: [
        {
          run_type: "backfill",
          logical_date: d("2025-12-01T00:00:00Z"),
          data_interval_start: null,
          data_interval_end: null,
          conf: {},
          team: "default",
          dag_id: "etl",
          run_id: "backfill__x",
          version_id: dag.version_id,
          queued_at: new Date(),
          tasks: [],
        },
      ],
    });
    await store.setDagRunState(created[0]!, ["queued"], "success", new Date());
    await creator.createDueRuns(d("2026-01-03T10:00:00Z"));
    expect((await store.getBackfill("default", backfill.id))!.completed_at).toEqual(d("2026-01-03T10:00:00Z"));
  });

  test("every DAG's due runs go to the store in one call", async () => {
    for (const dag_id of ["a", "b", "c"])
      await store.upsertDag("default", {
        spec: parseDagSpec({
          dag_id,
          schedule: "@daily",
          start_date: "2026-01-01T00:00:00Z",
          catchup: true,
          tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
        }),
        fileloc: `/dags/${dag_id}.json`,
        pausedOnCreate: false,
        now: d("2026-01-01T00:00:00Z"),
      });
    const calls: string[] = [];
    const counting = new Proxy(store, {
      get(target, key, receiver) {
        if (key === "createDagRun" || key === "createDagRuns") calls.push(key);
        return Reflect.get(target, key, receiver);
      },
    });
    const res = await new CronRunCreator({ store: counting, logger: silentLogger }).createDueRuns(d("2026-01-03T10:00:00Z"));
    expect(res.created).toHaveLength(6); // two days for each of three DAGs
    expect(calls).toEqual(["createDagRuns"]);
  });

  test("when the runs cannot be created together, each is created on its own: one DAG's failure holds up no other", async () => {
    await addDag({ schedule: "@daily", start_date: "2026-01-01T00:00:00Z", catchup: true });
    await store.upsertDag("default", {
      spec: parseDagSpec({
        dag_id: "gone",
        schedule: "@daily",
        start_date: "2026-01-01T00:00:00Z",
        tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
      }),
      fileloc: "/dags/gone.json",
      pausedOnCreate: false,
      now: d("2026-01-01T00:00:00Z"),
    });
    // The batch fails as it would when a DAG vanished meanwhile; that DAG's own insert fails too.
    const failing = overriding(store, {
      createDagRuns: async () => Promise.reject(new Error("insert or update violates foreign key constraint")),
      createDagRun: async (run) => (run.dag_id === "gone" ? Promise.reject(new NotFoundError("DAG gone")) : store.createDagRun(run)),
    });
    const res = await new CronRunCreator({ store: failing, logger: silentLogger }).createDueRuns(d("2026-01-03T10:00:00Z"));
    expect(res.created).toHaveLength(2);
    expect(await runs()).toEqual([
      "scheduled__2026-01-01T00:00:00+00:00 [2026-01-01T00 → 2026-01-02T00] queued",
      "scheduled__2026-01-02T00:00:00+00:00 [2026-01-02T00 → 2026-01-03T00] queued",
    ]);
  });

  test("between slots nothing is due, whatever the calls; the next slot, or a new version of the DAG, is seen at once", async () => {
    await addDag({ schedule: "@hourly", start_date: "2026-01-01T00:00:00Z", catchup: false, max_active_runs: 100 });
    expect((await creator.createDueRuns(d("2026-01-01T05:10:00Z"))).created).toHaveLength(1);
    expect(await creator.createDueRuns(d("2026-01-01T05:20:00Z"))).toMatchObject({ created: [], nextDueAt: d("2026-01-01T06:00:00Z") });
    expect(await creator.createDueRuns(d("2026-01-01T05:59:59.999Z"))).toMatchObject({ created: [], nextDueAt: d("2026-01-01T06:00:00Z") });
    expect((await creator.createDueRuns(d("2026-01-01T06:00:00Z"))).created).toHaveLength(1);
    expect(await creator.createDueRuns(d("2026-01-01T06:05:00Z"))).toMatchObject({ created: [], nextDueAt: d("2026-01-01T07:00:00Z") });
    await addDag({ schedule: "*/15 * * * *", start_date: "2026-01-01T00:00:00Z", catchup: false, max_active_runs: 100 });
    expect(await creator.createDueRuns(d("2026-01-01T06:20:00Z"))).toMatchObject({ nextDueAt: d("2026-01-01T06:30:00Z") });
    expect((await runs()).at(-1)).toBe("scheduled__2026-01-01T06:00:00+00:00 [2026-01-01T06 → 2026-01-01T06] queued");
  });
});
