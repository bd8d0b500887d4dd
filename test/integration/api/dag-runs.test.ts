import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  /** Airflow 3's id of a run without logical date: manual__<now>_<8 random letters or digits>. */
  const GENERATED = /^manual__2026-03-01T12:00:00\+00:00_[A-Za-z0-9]{8}$/;

  describe("POST /api/v2/dags/{dag_id}/dagRuns", () => {
    test("triggering_user_name is the user who triggered the run, kept for later reads; null without auth", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "by_admin", logical_date: null } });
      expect(r.body.triggering_user_name).toBe("admin");
      expect((await h.json("GET", "/api/v2/dags/etl/dagRuns/by_admin")).body.triggering_user_name).toBe("admin");
      const list = await h.json("GET", "/api/v2/dags/~/dagRuns");
      expect(list.body.dag_runs.map((run: any) => run.triggering_user_name)).toEqual(["admin"]);
      const open = await makeHarness({ auth: false });
      const anon = await open.json("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "nobody", logical_date: null } });
      expect(anon.status).toBe(200);
      expect((await open.json("GET", "/api/v2/dags/etl/dagRuns/nobody")).body.triggering_user_name).toBeNull();
    });

    test("triggers a run with Airflow's DAGRunResponse, conf as given and a scheduler wake-up", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null, conf: { limit: 3 }, note: "by hand" } });
      expect(r.status).toBe(200);
      expect(r.body.dag_run_id).toMatch(GENERATED);
      const RUN_ID = r.body.dag_run_id;
      expect(r.body).toMatchObject({
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
      const run = await h.store.getDagRun("default", "etl", RUN_ID);
      expect(h.wakes).toEqual([run!.id]);
      const tis = await h.store.listTaskInstances("default", "etl", RUN_ID);
      expect(tis.items.map((t) => [t.task_id, t.max_tries])).toEqual([
        ["extract", 2],
        ["load", 2],
      ]);
    });

    test("a given dag_run_id, logical date and data interval are kept; param defaults stay out of conf", async () => {
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
        conf: {},
      });
    });

    test("a duplicate dag_run_id is 409, and so is a second run for the same logical date", async () => {
      const h = await makeHarness();
      expect((await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "mine", logical_date: null } })).status).toBe(200);
      const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "mine", logical_date: null } });
      expect(r.status).toBe(409);
      expect(r.body.detail).toBe("dag run mine already exists for DAG etl");
      const day = { logical_date: "2026-01-01T00:00:00Z" };
      expect((await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: day })).status).toBe(200);
      const again = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: day });
      expect(again.status).toBe(409);
      expect(again.body.detail).toContain("manual__2026-01-01T00:00:00+00:00");
      expect(h.wakes).toHaveLength(2);
    });

    test("300 concurrent triggers without dag_run_id in the same millisecond give 300 distinct runs", async () => {
      const h = await makeHarness(); // its clock stands still: every trigger sees the same now
      const all = await Promise.all(
        Array.from({ length: 300 }, () => h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null } })),
      );
      expect(all.map((r) => r.status)).toEqual(Array(300).fill(200));
      expect(new Set(all.map((r) => r.body.dag_run_id)).size).toBe(300);
      expect((await h.json("GET", "/api/v2/dags/etl/dagRuns?limit=1")).body.total_entries).toBe(300);
    });

    test.each([
      ["NUL in conf", { conf: { a: { b: "x\u0000y" } } }, "conf.a.b contains U+0000 (NUL)"],
      ["lone surrogate in conf", { conf: { a: ["\ud800"] } }, "conf.a[0] contains a lone UTF-16 surrogate (U+D800)"],
      ["NUL in a conf key", { conf: { "k\u0000": 1 } }, 'conf["k\\u0000"] (a key) contains U+0000'],
      ["NUL in note", { note: "\u0000" }, "note contains U+0000 (NUL)"],
    ])("%s → 400 saying where and why, nothing stored", async (_n, extra, detail) => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null, ...extra } });
      expect(r.status).toBe(400);
      expect(r.body.detail).toContain(detail);
      expect(await h.store.listDagRuns("default", {})).toMatchObject({ total: 0 });
    });

    test("conf nested 65 deep → 400 naming the limit of 64 and the path", async () => {
      const h = await makeHarness();
      let conf: Record<string, unknown> = {};
      for (let i = 0; i < 64; i++) conf = { a: conf }; // conf itself is level 2 of the body
      const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null, conf } });
      expect(r.status).toBe(400);
      expect(r.body.detail).toStartWith("JSON nested deeper than 64 levels at conf.a.a.a.a.a.a.a…");
      const ok = await h.json("POST", "/api/v2/dags/etl/dagRuns", {
        body: { logical_date: null, conf: (conf as { a: Record<string, unknown> }).a },
      });
      expect(ok.status).toBe(200);
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

    test("a date in the years 1–99 is a real date (Date.UTC read 0001 as 1901 and refused it)", async () => {
      const h = await makeHarness();
      expect((await h.json("GET", "/api/v2/dags/~/dagRuns?logical_date_gte=0001-01-01T00:00:00Z")).status).toBe(200);
      const r = await h.json("GET", "/api/v2/dags/~/dagRuns?logical_date_gte=0099-02-29T00:00:00Z");
      expect(r.body.detail[0].msg).toBe("Input should be a valid datetime: 0099-02-29T00:00:00Z is not a real date");
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
      expect(await h.store.listDagRuns("default", {})).toMatchObject({ total: 0 });
    });

    test("an inactive DAG is 400", async () => {
      const h = await makeHarness();
      await h.store.deactivateDagsOfFile("default", "/dags/etl.json", []);
      const r = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null } });
      expect(r.status).toBe(400);
      expect(r.body.detail).toContain("not active");
    });
  });

  describe("GET dagRuns", () => {
    async function withRuns() {
      const h = await makeHarness();
      for (const id of ["a", "b", "c"]) await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: id, logical_date: null } });
      await h.call("POST", "/api/v2/dags/report/dagRuns", { body: { dag_run_id: "r1", logical_date: null } });
      const b = await h.store.getDagRun("default", "etl", "b");
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
      const RUN_ID = (await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null } })).body.dag_run_id;
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
});
