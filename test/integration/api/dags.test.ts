import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  describe("DAGs", () => {
    test("list: Airflow's shape, ordered by dag_id, with total_entries", async () => {
      const h = await makeHarness();
      const r = await h.json("GET", "/api/v2/dags");
      expect(r.status).toBe(200);
      expect(r.body.total_entries).toBe(2);
      expect(r.body.dags.map((d: any) => d.dag_id)).toEqual(["etl", "report"]);
      const etl = r.body.dags[0];
      expect(etl).toMatchObject({
        dag_id: "etl",
        dag_display_name: "etl",
        is_paused: false,
        is_stale: false,
        fileloc: "/dags/etl.json",
        relative_fileloc: "etl.json",
        description: "nightly load",
        timetable_summary: "@daily",
        last_parsed_time: "2026-03-01T12:00:00.000Z",
        max_active_runs: 16,
      });
      expect(etl.tags).toEqual([
        { name: "prod", dag_id: "etl", dag_display_name: "etl" },
        { name: "db", dag_id: "etl", dag_display_name: "etl" },
      ]);
    });

    test("list filters: paused, tags, paging, order_by", async () => {
      const h = await makeHarness();
      const ids = async (q: string) => (await h.json("GET", `/api/v2/dags?${q}`)).body.dags.map((d: any) => d.dag_id);
      expect(await ids("paused=true")).toEqual(["report"]);
      expect(await ids("paused=false")).toEqual(["etl"]);
      expect(await ids("tags=adhoc")).toEqual(["report"]);
      expect(await ids("limit=1&offset=1")).toEqual(["report"]);
      expect(await ids("order_by=-dag_id")).toEqual(["report", "etl"]);
      const page = await h.json("GET", "/api/v2/dags?limit=1");
      expect(page.body.total_entries).toBe(2);
    });

    test("bad query values are 422 with their location; an unknown order_by is 400", async () => {
      const h = await makeHarness();
      const r = await h.json("GET", "/api/v2/dags?limit=-1&paused=maybe");
      expect(r.status).toBe(422);
      expect(r.body.detail.map((d: any) => d.loc)).toEqual([
        ["query", "limit"],
        ["query", "paused"],
      ]);
      // Each says what a good value is (it said "expected number, received NaN" for limit=abc).
      const words = await h.json("GET", "/api/v2/dags?limit=abc&offset=1.5");
      expect(words.body.detail.map((d: any) => [d.loc[1], d.msg])).toEqual([
        ["limit", "Input should be a whole number of 0 or more"],
        ["offset", "Input should be a whole number of 0 or more"],
      ]);
      const o = await h.json("GET", "/api/v2/dags?order_by=nonsense");
      expect(o.status).toBe(400);
      expect(o.body.detail).toContain("nonsense");
    });

    test("get one, and 404 for an unknown DAG", async () => {
      const h = await makeHarness();
      expect((await h.json("GET", "/api/v2/dags/report")).body.is_paused).toBe(true);
      const r = await h.json("GET", "/api/v2/dags/nope");
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ detail: "The Dag with ID: `nope` was not found" });
    });

    test("PATCH pauses and unpauses; both wake the scheduler (a pause stops refills of freed inline slots at once)", async () => {
      const h = await makeHarness();
      const p = await h.json("PATCH", "/api/v2/dags/etl", { body: { is_paused: true } });
      expect(p.status).toBe(200);
      expect(p.body.is_paused).toBe(true);
      expect((await h.json("GET", "/api/v2/dags/etl")).body.is_paused).toBe(true);
      expect(h.wakes).toEqual([undefined]);
      expect((await h.json("PATCH", "/api/v2/dags/etl", { body: { is_paused: false } })).body.is_paused).toBe(false);
      expect(h.wakes).toEqual([undefined, undefined]);
    });

    test("PATCH validates its body and 404s an unknown DAG", async () => {
      const h = await makeHarness();
      const bad = await h.json("PATCH", "/api/v2/dags/etl", { body: { is_paused: "yes", extra: 1 } });
      expect(bad.status).toBe(422);
      expect(bad.body.detail).toContainEqual({ loc: ["body", "extra"], msg: "Extra inputs are not permitted", type: "extra_forbidden" });
      expect(bad.body.detail.map((d: any) => d.loc)).toContainEqual(["body", "is_paused"]);
      const notJson = await h.json("PATCH", "/api/v2/dags/etl", { body: "{not json" });
      expect(notJson.status).toBe(422);
      expect(notJson.body.detail[0].type).toBe("json_invalid");
      expect((await h.call("PATCH", "/api/v2/dags/nope", { body: { is_paused: true } })).status).toBe(404);
    });

    test("details carry params, schedule bounds and defaults", async () => {
      const h = await makeHarness();
      const r = await h.json("GET", "/api/v2/dags/etl/details");
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        dag_id: "etl",
        catchup: false,
        timezone: "UTC",
        start_date: "2026-01-01T00:00:00.000Z",
        default_args: { retries: 2 },
        params: { limit: { value: 10, description: null, schema: { type: "integer", minimum: 1 } } },
      });
    });

    test("tasks: Airflow's TaskResponse with downstream ids and TimeDelta durations", async () => {
      const h = await makeHarness();
      const r = await h.json("GET", "/api/v2/dags/etl/tasks");
      expect(r.body.total_entries).toBe(2);
      const [extract, load] = r.body.tasks;
      expect(extract).toMatchObject({
        task_id: "extract",
        operator_name: "bash",
        retries: 2,
        trigger_rule: "all_success",
        downstream_task_ids: ["load"],
        retry_delay: { __type: "TimeDelta", days: 0, seconds: 300, microseconds: 0 },
        execution_timeout: null,
      });
      expect(load.downstream_task_ids).toEqual([]);
      const desc = await h.json("GET", "/api/v2/dags/etl/tasks?order_by=-task_id");
      expect(desc.body.tasks.map((t: any) => t.task_id)).toEqual(["load", "extract"]);
      expect((await h.json("GET", "/api/v2/dags/etl/tasks/load")).body.task_id).toBe("load");
      expect((await h.call("GET", "/api/v2/dags/etl/tasks/nope")).status).toBe(404);
    });

    test("unknown routes answer JSON 404", async () => {
      const h = await makeHarness();
      const r = await h.json("GET", "/nothing/here");
      expect(r.status).toBe(404);
      expect(r.body.detail).toContain("/nothing/here");
    });
  });
});
