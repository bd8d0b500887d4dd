/**
 * Teams (issue 21) through the REST API, run side: a second team "team-b" is seeded straight through the
 * store with its own DAG "etl" (the same dag_id as the default team's), runs, task instances, an XCom, log
 * lines and a backfill. The caller acts in the default team: no list shows team-b's rows, and every path to
 * one of them answers 404 with the words of a missing record, whatever the verb.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import { backfillSkips } from "../../../src/scheduler";
import { ETL, forEachApiStore, NOW, type Harness } from "./harness";

const B = "team-b";

/** team-b's "etl", its runs "b-only" and "shared", an XCom "secret" and log lines; the default team gets a run "shared" too. */
async function seedTeamB(h: Harness) {
  await h.store.ensureTeam(B, NOW);
  const dag = await h.store.upsertDag(B, { spec: parseDagSpec(ETL), fileloc: "/dags/team-b/etl.json", pausedOnCreate: false, now: NOW });
  const tasks = dag.spec.tasks.map((t) => ({
    task_id: t.task_id,
    operator: t.operator,
    max_tries: 0,
    pool: "default_pool",
    pool_slots: 1,
    priority_weight: 1,
  }));
  const run = (run_id: string) =>
    h.store.createDagRun({
      team: B,
      dag_id: "etl",
      run_id,
      run_type: "manual",
      logical_date: null,
      data_interval_start: null,
      data_interval_end: null,
      conf: {},
      version_id: dag.version_id,
      queued_at: NOW,
      tasks,
    });
  await run("b-only");
  await run("shared");
  expect((await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "shared", logical_date: null } })).status).toBe(200);
  for (const run_id of ["b-only", "shared"])
    await h.store.setXCom({ team: B, dag_id: "etl", run_id, task_id: "extract", key: "secret" }, "team-b only", NOW);
  const bTi = await h.store.getTaskInstance(B, "etl", "shared", "extract");
  await h.store.appendLogs(bTi?.id ?? -1, 1, 0, [{ timestamp: NOW, stream: "stdout", line: "team-b log line" }]);
  const { backfill } = await h.store.createBackfill({
    team: B,
    dag_id: "etl",
    from_date: new Date("2026-01-01T00:00:00Z"),
    to_date: new Date("2026-01-01T00:00:00Z"),
    run_backwards: false,
    dag_run_conf: null,
    reprocess_behavior: "none",
    max_active_runs: 1,
    now: NOW,
    skip_existing: backfillSkips("none"),
    runs: [],
  });
  return { backfillId: backfill.id };
}

const runIds = (runs: { dag_run_id: string }[]) => runs.map((r) => r.dag_run_id).sort();

forEachApiStore((makeHarness) => {
  describe("another team's runs, task instances, XComs, logs and backfills", () => {
    test("run lists show only the caller's team's runs", async () => {
      const h = await makeHarness();
      await seedTeamB(h);
      const one = await h.json("GET", "/api/v2/dags/etl/dagRuns");
      expect([one.status, runIds(one.body.dag_runs), one.body.total_entries]).toEqual([200, ["shared"], 1]);
      const all = await h.json("GET", "/api/v2/dags/~/dagRuns");
      expect(runIds(all.body.dag_runs)).toEqual(["shared"]);
      const batch = await h.json("POST", "/api/v2/dags/~/dagRuns/list", { body: { dag_ids: ["etl"] } });
      expect([runIds(batch.body.dag_runs), batch.body.total_entries]).toEqual([["shared"], 1]);
    });

    test("another team's run is a 404 worded as a missing one, for every verb, and stays as it was", async () => {
      const h = await makeHarness();
      await seedTeamB(h);
      const missing = await h.json("GET", "/api/v2/dags/etl/dagRuns/nope");
      expect(missing.status).toBe(404);
      const paths: [string, string, unknown?][] = [
        ["GET", "/api/v2/dags/etl/dagRuns/b-only"],
        ["PATCH", "/api/v2/dags/etl/dagRuns/b-only", { state: "failed" }],
        ["DELETE", "/api/v2/dags/etl/dagRuns/b-only"],
        ["POST", "/api/v2/dags/etl/dagRuns/b-only/clear", { dry_run: false }],
        ["GET", "/api/v2/dags/etl/dagRuns/b-only/wait?interval=1"],
        ["GET", "/api/v2/dags/etl/dagRuns/b-only/taskInstances"],
      ];
      for (const [method, path, body] of paths) {
        const r = await h.json(method, path, body === undefined ? {} : { body });
        expect([method, path, r.status, r.body.detail]).toEqual([method, path, 404, missing.body.detail.replace("nope", "b-only")]);
      }
      expect((await h.store.getDagRun(B, "etl", "b-only"))?.state).toBe("queued");
    });

    test("another team's task instance, its tries, dependencies, logs and XComs are 404; nothing of it is written", async () => {
      const h = await makeHarness();
      await seedTeamB(h);
      const TI = "/api/v2/dags/etl/dagRuns/b-only/taskInstances/extract";
      const paths: [string, string, unknown?][] = [
        ["GET", TI],
        ["PATCH", TI, { new_state: "success" }],
        ["PATCH", `${TI}/dry_run`, { new_state: "success" }],
        ["GET", `${TI}/tries`],
        ["GET", `${TI}/dependencies`],
        ["GET", `${TI}/logs/1`],
        ["GET", `${TI}/xcomEntries`],
        ["GET", `${TI}/xcomEntries/secret`],
        ["POST", `${TI}/xcomEntries`, { key: "k", value: 1 }],
        ["PATCH", `${TI}/xcomEntries/secret`, { value: "overwritten" }],
      ];
      for (const [method, path, body] of paths) {
        const r = await h.json(method, path, body === undefined ? {} : { body });
        expect([method, path, r.status, r.body.detail]).toEqual([method, path, 404, expect.stringContaining("b-only")]);
      }
      expect((await h.store.getTaskInstance(B, "etl", "b-only", "extract"))?.state).toBe("none");
      const secret = await h.store.getXCom({ team: B, dag_id: "etl", run_id: "b-only", task_id: "extract", key: "secret" });
      expect(secret?.value).toBe("team-b only");
    });

    test("task-instance lists, XCom lists and the shared run's log show only the caller's team's", async () => {
      const h = await makeHarness();
      await seedTeamB(h);
      const tis = await h.json("GET", "/api/v2/dags/~/dagRuns/~/taskInstances");
      expect(tis.body.task_instances.map((t: { dag_run_id: string }) => t.dag_run_id)).toEqual(["shared", "shared"]);
      const batch = await h.json("POST", "/api/v2/dags/~/dagRuns/~/taskInstances/list", { body: {} });
      expect(batch.body.total_entries).toBe(2);
      const ofShared = await h.json("GET", "/api/v2/dags/etl/dagRuns/shared/taskInstances");
      expect(ofShared.body.total_entries).toBe(2);
      const xcoms = await h.json("GET", "/api/v2/dags/~/dagRuns/~/taskInstances/~/xcomEntries");
      expect([xcoms.status, xcoms.body.total_entries]).toEqual([200, 0]);
      const sharedSecret = await h.json("GET", "/api/v2/dags/etl/dagRuns/shared/taskInstances/extract/xcomEntries/secret");
      expect(sharedSecret.status).toBe(404);
      const log = await h.json("GET", "/api/v2/dags/etl/dagRuns/shared/taskInstances/extract/logs/1");
      expect([log.status, log.body.content]).toEqual([200, []]);
      // A clear over the whole DAG reaches only the caller's team's runs.
      const clear = await h.json("POST", "/api/v2/dags/etl/clearTaskInstances", { body: { dry_run: true, only_failed: false } });
      expect(clear.body.task_instances.map((t: { dag_run_id: string }) => t.dag_run_id)).toEqual(["shared", "shared"]);
    });

    test("triggering a run id another team has creates the caller's own run", async () => {
      const h = await makeHarness();
      await seedTeamB(h);
      const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "b-only", logical_date: null } });
      expect([r.status, r.body.dag_run_id]).toEqual([200, "b-only"]);
      expect((await h.store.getDagRun("default", "etl", "b-only"))?.team).toBe("default");
      expect((await h.store.listDagRuns(B, { dag_id: "etl" })).total).toBe(2);
    });

    test("another team's backfill is not listed and is a 404 worded as a missing one; it stays as it was", async () => {
      const h = await makeHarness();
      const { backfillId } = await seedTeamB(h);
      const list = await h.json("GET", "/api/v2/backfills?dag_id=etl");
      expect([list.status, list.body.total_entries]).toEqual([200, 0]);
      for (const [method, path] of [
        ["GET", `/api/v2/backfills/${backfillId}`],
        ["PUT", `/api/v2/backfills/${backfillId}/pause`],
        ["PUT", `/api/v2/backfills/${backfillId}/cancel`],
      ] as const) {
        const r = await h.json(method, path);
        expect([method, r.status, r.body.detail]).toEqual([method, 404, `Could not find backfill with id ${backfillId}`]);
      }
      const untouched = await h.store.getBackfill(B, backfillId);
      expect([untouched?.is_paused, untouched?.completed_at]).toEqual([false, null]);
    });
  });
});
