import { describe, expect, test } from "bun:test";
import { makeHarness } from "./harness";

const RUN_ID = "manual__2026-03-01T12:00:00+00:00";

describe("POST /api/v2/dags/{dag_id}/dagRuns", () => {
  test("triggers a run with Airflow's DAGRunResponse, effective conf and a scheduler wake-up", async () => {
    const h = await makeHarness();
    const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null, conf: { limit: 3 }, note: "by hand" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      dag_run_id: RUN_ID,
      dag_id: "etl",
      logical_date: null,
      queued_at: "2026-03-01T12:00:00.000Z",
      run_after: "2026-03-01T12:00:00.000Z",
      start_date: null,
      end_date: null,
      duration: null,
      run_type: "manual",
      triggered_by: "rest_api",
      state: "queued",
      conf: { limit: 3 },
      note: "by hand",
    });
    const run = await h.store.getDagRun("etl", RUN_ID);
    expect(h.wakes).toEqual([run!.id]);
    const tis = await h.store.listTaskInstances("etl", RUN_ID);
    expect(tis.items.map((t) => [t.task_id, t.max_tries])).toEqual([
      ["extract", 2],
      ["load", 2],
    ]);
  });

  test("a given dag_run_id, logical date and data interval are kept; defaults fill conf", async () => {
    const h = await makeHarness();
    const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", {
      body: {
        dag_run_id: "backfill-jan:1",
        logical_date: "2026-01-01T00:00:00+02:00",
        data_interval_start: "2025-12-31T00:00:00Z",
        data_interval_end: "2026-01-01T00:00:00Z",
      },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      dag_run_id: "backfill-jan:1",
      logical_date: "2025-12-31T22:00:00.000Z",
      data_interval_start: "2025-12-31T00:00:00.000Z",
      data_interval_end: "2026-01-01T00:00:00.000Z",
      conf: { limit: 10 },
    });
  });

  test("a duplicate run id is 409", async () => {
    const h = await makeHarness();
    expect((await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null } })).status).toBe(200);
    const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null } });
    expect(r.status).toBe(409);
    expect(r.body.detail).toContain(RUN_ID);
    expect(h.wakes).toHaveLength(1);
  });

  test("an unknown DAG is 404", async () => {
    const h = await makeHarness();
    const r = await h.json("POST", "/api/v2/dags/nope/dagRuns", { body: { logical_date: null } });
    expect(r.status).toBe(404);
    expect(r.body.detail).toBe("The Dag with ID: `nope` was not found");
  });

  test.each([
    ["missing logical_date", {}, [{ loc: ["body", "logical_date"], msg: "Field required", type: "missing" }]],
    ["conf not an object", { logical_date: null, conf: [1] }, [{ loc: ["body", "conf"], type: "record_type" }]],
    ["unknown field", { logical_date: null, confs: {} }, [{ loc: ["body", "confs"], type: "extra_forbidden" }]],
    ["bad date", { logical_date: "yesterday" }, [{ loc: ["body", "logical_date"], type: "value_error" }]],
    ["impossible date", { logical_date: "2026-02-30T00:00:00Z" }, [{ loc: ["body", "logical_date"], type: "value_error" }]],
    ["half an interval", { logical_date: null, data_interval_start: "2026-01-01T00:00:00Z" }, [{ loc: ["body", "data_interval_end"] }]],
    ["bad run id", { logical_date: null, dag_run_id: "a b" }, [{ loc: ["body", "dag_run_id"] }]],
  ])("bad body (%s) → 422", async (_n, body, detail) => {
    const h = await makeHarness();
    const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body });
    expect(r.status).toBe(422);
    expect(r.body.detail).toMatchObject(detail);
    expect(h.wakes).toEqual([]);
  });

  test("an empty body is 422", async () => {
    const h = await makeHarness();
    const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: "" });
    expect(r.status).toBe(422);
    expect(r.body.detail[0]).toMatchObject({ loc: ["body"], type: "missing" });
  });

  test("conf that breaks a param is 400 with the param path", async () => {
    const h = await makeHarness();
    const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null, conf: { limit: 0 } } });
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain("conf.limit: 0 is less than the minimum 1");
    expect(await h.store.listDagRuns({})).toMatchObject({ total: 0 });
  });

  test("an inactive DAG is 400", async () => {
    const h = await makeHarness();
    await h.store.deactivateDagsOfFile("/dags/etl.json", []);
    const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null } });
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain("not active");
  });
});

describe("GET dagRuns", () => {
  async function withRuns() {
    const h = await makeHarness();
    for (const id of ["a", "b", "c"])
      await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: id, logical_date: null } });
    await h.call("POST", "/api/v2/dags/report/dagRuns", { body: { dag_run_id: "r1", logical_date: null } });
    const b = await h.store.getDagRun("etl", "b");
    await h.store.setDagRunState(b!.id, ["queued"], "running", new Date("2026-03-01T12:01:00Z"));
    return h;
  }

  test("one DAG's runs, paged, with total_entries", async () => {
    const h = await withRuns();
    const r = await h.json("GET", "/api/v2/dags/etl/dagRuns?limit=2&order_by=-dag_run_id");
    expect(r.body.total_entries).toBe(3);
    expect(r.body.dag_runs.map((x: any) => x.dag_run_id)).toEqual(["c", "b"]);
  });

  test("~ lists every DAG's runs; state filters", async () => {
    const h = await withRuns();
    const all = await h.json("GET", "/api/v2/dags/~/dagRuns");
    expect(all.body.total_entries).toBe(4);
    const running = await h.json("GET", "/api/v2/dags/~/dagRuns?state=running");
    expect(running.body.dag_runs.map((x: any) => [x.dag_run_id, x.state, x.start_date])).toEqual([
      ["b", "running", "2026-03-01T12:01:00.000Z"],
    ]);
    const two = await h.json("GET", "/api/v2/dags/~/dagRuns?state=running&state=queued");
    expect(two.body.total_entries).toBe(4);
    const bad = await h.json("GET", "/api/v2/dags/~/dagRuns?state=sleeping");
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(["query", "state", 0]);
  });

  test("get one run; 404s for unknown run or DAG", async () => {
    const h = await withRuns();
    expect((await h.json("GET", "/api/v2/dags/etl/dagRuns/b")).body.state).toBe("running");
    const r = await h.json("GET", "/api/v2/dags/etl/dagRuns/zz");
    expect(r.status).toBe(404);
    expect(r.body.detail).toBe("The DagRun with dag_id: `etl` and run_id: `zz` was not found");
    expect((await h.call("GET", "/api/v2/dags/nope/dagRuns")).status).toBe(404);
  });

  test("run ids with + and : work URL-encoded", async () => {
    const h = await makeHarness();
    await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null } });
    const r = await h.json("GET", `/api/v2/dags/etl/dagRuns/${encodeURIComponent(RUN_ID)}`);
    expect(r.status).toBe(200);
    expect(r.body.dag_run_id).toBe(RUN_ID);
  });
});

test("a body over 1 MiB is refused with 413", async () => {
  const h = await makeHarness();
  const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null, conf: { blob: "x".repeat(1100 * 1024) } } });
  expect(r.status).toBe(413);
  expect(r.body.detail).toContain("larger than");
});
