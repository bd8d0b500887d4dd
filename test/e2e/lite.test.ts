/**
 * Lite end to end: the compiled binary, started as a user would, runs a real DAG through scheduler →
 * dispatcher → subprocess executor → `leoflow agent` → Connect RPC, and everything is checked over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { metricValue, startLeoflow, waitFor, waitForRun, type Leoflow } from "./harness";

const FIXTURES = resolve(import.meta.dir, "../fixtures/e2e");

describe("leoflow serve (lite, compiled binary)", () => {
  let lf: Leoflow;
  beforeAll(async () => {
    lf = await startLeoflow({ dagsFrom: FIXTURES });
  }, 30_000);
  afterAll(async () => {
    await lf?.stop();
  });

  test("health and version answer without a token", async () => {
    const health = await fetch(`${lf.url}/api/v2/monitor/health`).then((r) => r.json());
    expect(health.metadatabase.status).toBe("healthy");
    expect(health.scheduler.status).toBe("healthy");
    const version = await fetch(`${lf.url}/api/v2/version`).then((r) => r.json());
    expect(version.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("the API refuses requests without a token", async () => {
    const res = await fetch(`${lf.url}/api/v2/dags`);
    expect(res.status).toBe(401);
    expect((await res.json()).detail).toContain("/auth/token");
  });

  test("valid DAGs are listed and an invalid one is an import error with its field path", async () => {
    const dags = await lf.api("GET", "/api/v2/dags");
    expect(dags.status).toBe(200);
    const ids = dags.body.dags.map((d: any) => d.dag_id).sort();
    expect(ids).toEqual(["e2e_chain", "e2e_pipeline"]);
    const errors = await lf.api("GET", "/api/v2/importErrors");
    expect(errors.body.total_entries).toBe(1);
    expect(errors.body.import_errors[0].filename).toEndWith("broken.json");
    expect(errors.body.import_errors[0].stack_trace).toContain("tasks[0].upstream[0]");
    expect(errors.body.import_errors[0].stack_trace).toContain('unknown upstream task "missing"');
  });

  test("a triggered run goes through retries, skips, fan-in and XCom, visible over HTTP", async () => {
    const trigger = await lf.api("POST", "/api/v2/dags/e2e_pipeline/dagRuns", {
      dag_run_id: "e2e-1",
      logical_date: "2026-11-01T00:00:00Z",
      conf: { factor: 3 },
    });
    expect(trigger.status).toBe(200);
    expect(trigger.body.dag_run_id).toBe("e2e-1");
    expect(trigger.body.state).toBe("queued");

    const run = await waitForRun(lf, "e2e_pipeline", "e2e-1");
    expect(run.state).toBe("success");
    expect(run.conf).toEqual({ factor: 3 });

    const tis = await lf.api("GET", "/api/v2/dags/e2e_pipeline/dagRuns/e2e-1/taskInstances");
    const byId = Object.fromEntries(tis.body.task_instances.map((t: any) => [t.task_id, t]));
    expect(tis.body.total_entries).toBe(7);
    expect(byId.extract.state).toBe("success");
    expect(byId.transform.state).toBe("success");
    expect(byId.flaky.state).toBe("success");
    expect(byId.flaky.try_number).toBe(2);
    expect(byId.maybe.state).toBe("skipped");
    expect(byId.after_maybe.state).toBe("skipped");
    expect(byId.summarize.state).toBe("success");
    expect(byId.report.state).toBe("success");

    const xcom = async (task: string) =>
      (await lf.api("GET", `/api/v2/dags/e2e_pipeline/dagRuns/e2e-1/taskInstances/${task}/xcomEntries/return_value`)).body.value;
    expect(await xcom("extract")).toEqual({ rows: 42 });
    expect(await xcom("transform")).toEqual({ doubled: 126 });
    expect(await xcom("summarize")).toEqual({ total: 127, dag: "e2e_pipeline" });
    expect(await xcom("report")).toBe("done");

    const log = async (task: string, tryNumber: number) => {
      const res = await lf.api("GET", `/api/v2/dags/e2e_pipeline/dagRuns/e2e-1/taskInstances/${task}/logs/${tryNumber}`);
      expect(res.status).toBe(200);
      return res.body.content.map((l: any) => l.event).join("\n");
    };
    expect(await log("extract", 1)).toContain("extracting rows");
    expect(await log("transform", 1)).toContain("transforming 42");
    expect(await log("flaky", 1)).toContain("failing on purpose");
    expect(await log("flaky", 1)).toContain("exit code 3");
    expect(await log("flaky", 2)).toContain("try 2");
    expect(await log("summarize", 1)).toContain("summarizing doubled=126 on try 1");
    expect(await log("report", 1)).toContain(`report: {"total":127,"dag":"e2e_pipeline"}`);
    expect(await log("maybe", 1)).toContain("nothing to do today");
    const noTry = await lf.api("GET", "/api/v2/dags/e2e_pipeline/dagRuns/e2e-1/taskInstances/extract/logs/5");
    expect(noTry.status).toBe(404);
  }, 90_000);

  test("a bash chain runs in order, each next task queued by its upstream's report without waiting for a tick", async () => {
    const handOffs = () => metricValue(lf, "leoflow_scheduler_chain_handoffs_total");
    const before = await handOffs();
    const trigger = await lf.api("POST", "/api/v2/dags/e2e_chain/dagRuns", { dag_run_id: "handoff", logical_date: null });
    expect(trigger.status).toBe(200);
    expect((await waitForRun(lf, "e2e_chain", "handoff")).state).toBe("success");
    const tis = (await lf.api("GET", "/api/v2/dags/e2e_chain/dagRuns/handoff/taskInstances")).body.task_instances;
    const byId = new Map<string, any>(tis.map((t: any) => [t.task_id, t]));
    expect(tis).toHaveLength(10);
    for (let i = 1; i <= 10; i++) {
      const t = byId.get(`t${i}`);
      expect([t.state, t.try_number]).toEqual(["success", 1]);
      if (i > 1) expect(Date.parse(t.start_date)).toBeGreaterThanOrEqual(Date.parse(byId.get(`t${i - 1}`).end_date));
    }
    // Nine hops; a tick that reads the run first (a sweep) queues that one itself, which the write's condition allows.
    const handed = (await handOffs()) - before;
    expect(handed).toBeGreaterThanOrEqual(7);
    expect(handed).toBeLessThanOrEqual(9);
  }, 60_000);

  test("a bad trigger body and a duplicate run id are refused with a precise error", async () => {
    const bad = await lf.api("POST", "/api/v2/dags/e2e_chain/dagRuns", { logical_date: "not a date" });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.detail)).toContain("logical_date");
    const first = await lf.api("POST", "/api/v2/dags/e2e_chain/dagRuns", { dag_run_id: "dup", logical_date: null });
    expect(first.status).toBe(200);
    const again = await lf.api("POST", "/api/v2/dags/e2e_chain/dagRuns", { dag_run_id: "dup", logical_date: null });
    expect(again.status).toBe(409);
    const unknown = await lf.api("POST", "/api/v2/dags/nope/dagRuns", { logical_date: null });
    expect(unknown.status).toBe(404);
    expect((await waitForRun(lf, "e2e_chain", "dup")).state).toBe("success");
  }, 60_000);

  test("a DAG file dropped into the folder is picked up, and a broken edit becomes an import error", async () => {
    const file = `${lf.dir}/dags/added.json`;
    writeFileSync(file, JSON.stringify({ dag_id: "added_later", tasks: [{ task_id: "only", operator: "bash", bash_command: "echo hi" }] }));
    await waitFor(
      async () => (await lf.api("GET", "/api/v2/dags/added_later")).status === 200,
      10_000,
      () => "added_later never appeared",
    );
    writeFileSync(file, '{ "dag_id": "added_later", "tasks": [ { "task_id": "only", "operator": "bsh" } ] }');
    const err = await waitFor(
      async () => (await lf.api("GET", "/api/v2/importErrors")).body.import_errors.find((e: any) => e.filename.endsWith("added.json")),
      10_000,
      () => "the broken edit never became an import error",
    );
    expect(err.stack_trace).toContain("tasks[0].operator");
  }, 30_000);
});
