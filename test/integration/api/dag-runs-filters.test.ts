import { describe, expect, test } from "bun:test";
import { forEachApiStore, NOW } from "./harness";

forEachApiStore((makeHarness) => {
  /** etl: m1 (manual, logical 2026-01-01, marked success), m2 (manual, queued); report: r1 (manual, queued). */
  async function runs() {
    const h = await makeHarness();
    const trigger = (dag: string, body: object) => h.json("POST", `/api/v2/dags/${dag}/dagRuns`, { body: { logical_date: null, ...body } });
    await trigger("etl", { dag_run_id: "m1", logical_date: "2026-01-01T00:00:00Z" });
    await trigger("etl", { dag_run_id: "m2" });
    await trigger("report", { dag_run_id: "r1" });
    expect((await h.json("PATCH", "/api/v2/dags/etl/dagRuns/m1", { body: { state: "success" } })).status).toBe(200);
    return h;
  }

  const ids = (body: any) => body.dag_runs.map((r: any) => `${r.dag_id}/${r.dag_run_id}`);

  describe("GET /dags/{dag_id}/dagRuns filters", () => {
    test("run_id_pattern is SQL LIKE, case-insensitive; dag_id_pattern with ~", async () => {
      const h = await runs();
      expect(ids((await h.json("GET", "/api/v2/dags/etl/dagRuns?run_id_pattern=M%25")).body)).toEqual(["etl/m1", "etl/m2"]);
      expect(ids((await h.json("GET", "/api/v2/dags/etl/dagRuns?run_id_pattern=%252")).body)).toEqual(["etl/m2"]);
      expect(ids((await h.json("GET", "/api/v2/dags/~/dagRuns?dag_id_pattern=rep%25")).body)).toEqual(["report/r1"]);
    });

    test("every *_pattern is Airflow's substring search: ILIKE '%value%', with % and _ still wildcards", async () => {
      const h = await runs();
      await h.json("POST", "/api/v2/dags/etl/dagRuns/m1/taskInstances/extract/xcomEntries", { body: { key: "row_count", value: 1 } });
      expect(ids((await h.json("GET", "/api/v2/dags/etl/dagRuns?run_id_pattern=1")).body)).toEqual(["etl/m1"]);
      expect(ids((await h.json("GET", "/api/v2/dags/etl/dagRuns?run_id_pattern=M_")).body)).toEqual(["etl/m1", "etl/m2"]);
      expect(ids((await h.json("GET", "/api/v2/dags/~/dagRuns?dag_id_pattern=EP")).body)).toEqual(["report/r1"]);
      expect(ids((await h.json("GET", "/api/v2/dags/~/dagRuns?triggering_user_name_pattern=DMI")).body)).toHaveLength(3);
      const tis = await h.json("GET", "/api/v2/dags/etl/dagRuns/m2/taskInstances?task_display_name_pattern=XTR");
      expect(tis.body.task_instances.map((t: any) => t.task_id)).toEqual(["extract"]);
      const xcoms = await h.json("GET", "/api/v2/dags/~/dagRuns/~/taskInstances/~/xcomEntries?xcom_key_pattern=W_C");
      expect(xcoms.body.xcom_entries.map((x: any) => x.key)).toEqual(["row_count"]);
      const logs = await h.json("GET", "/api/v2/eventLogs?event=trigger_dag_run&run_id_pattern=m_");
      expect(logs.body.event_logs.map((l: any) => l.run_id)).toEqual(["m1", "m2"]);
      await h.json("POST", "/api/v2/variables", { body: { key: "row_limit", value: "1" } });
      expect((await h.json("GET", "/api/v2/variables?variable_key_pattern=w_l")).body.variables.map((v: any) => v.key)).toEqual([
        "row_limit",
      ]);
    });

    test("run_type filters, repeated values are ORed, an unknown type is 422 naming run_type", async () => {
      const h = await runs();
      expect((await h.json("GET", "/api/v2/dags/~/dagRuns?run_type=manual")).body.total_entries).toBe(3);
      expect((await h.json("GET", "/api/v2/dags/~/dagRuns?run_type=scheduled")).body.total_entries).toBe(0);
      expect((await h.json("GET", "/api/v2/dags/~/dagRuns?run_type=scheduled&run_type=manual")).body.total_entries).toBe(3);
      expect((await h.json("GET", "/api/v2/dags/~/dagRuns?run_type=asset_triggered")).body.total_entries).toBe(0);
      // Every run here was triggered by admin through the API (triggering_user_name).
      expect((await h.json("GET", "/api/v2/dags/~/dagRuns?triggering_user_name_pattern=%25")).body.total_entries).toBe(3);
      expect((await h.json("GET", "/api/v2/dags/~/dagRuns?triggering_user_name_pattern=nobody")).body.total_entries).toBe(0);
      const bad = await h.json("GET", "/api/v2/dags/~/dagRuns?run_type=cron");
      expect(bad.status).toBe(422);
      expect(bad.body.detail[0].loc).toEqual(["query", "run_type", 0]);
    });

    test("date ranges: logical_date, end_date, run_after; a date that is not one is 422", async () => {
      const h = await runs();
      expect(ids((await h.json("GET", "/api/v2/dags/etl/dagRuns?logical_date_lte=2026-01-02")).body)).toEqual(["etl/m1"]);
      expect(ids((await h.json("GET", "/api/v2/dags/etl/dagRuns?logical_date_gt=2026-01-01T00:00:00Z")).body)).toEqual([]);
      expect(ids((await h.json("GET", `/api/v2/dags/etl/dagRuns?end_date_gte=${NOW.toISOString()}`)).body)).toEqual(["etl/m1"]);
      // m2 has no logical date: its run_after is when it was queued.
      expect(ids((await h.json("GET", "/api/v2/dags/etl/dagRuns?run_after_gte=2026-02-01")).body)).toEqual(["etl/m2"]);
      expect(ids((await h.json("GET", `/api/v2/dags/~/dagRuns?updated_at_gte=${NOW.toISOString()}`)).body)).toHaveLength(3);
      const bad = await h.json("GET", "/api/v2/dags/etl/dagRuns?start_date_gte=yesterday");
      expect(bad.status).toBe(422);
      expect(bad.body.detail[0].loc).toEqual(["query", "start_date_gte"]);
    });

    test("start_date_gte keeps only runs that started", async () => {
      const h = await runs();
      // Marking m1 success set its end date; it never ran, so start_date stays null and the filter drops it.
      expect(ids((await h.json("GET", "/api/v2/dags/etl/dagRuns?start_date_gte=2026-01-01")).body)).toEqual([]);
    });
  });

  describe("POST /dags/~/dagRuns/list", () => {
    test("filters in the body, paging, total_entries", async () => {
      const h = await runs();
      const r = await h.json("POST", "/api/v2/dags/~/dagRuns/list", {
        body: { dag_ids: ["etl"], states: ["queued"], page_limit: 10, order_by: "-dag_run_id" },
      });
      expect(r.status).toBe(200);
      expect(ids(r.body)).toEqual(["etl/m2"]);
      expect(r.body.total_entries).toBe(1);
      const all = await h.json("POST", "/api/v2/dags/~/dagRuns/list", { body: { page_limit: 1, page_offset: 1, order_by: "dag_run_id" } });
      expect(ids(all.body)).toEqual(["etl/m2"]);
      expect(all.body.total_entries).toBe(3);
    });

    test("dag_id other than ~ and unknown body fields are 422 naming the field", async () => {
      const h = await runs();
      const r = await h.json("POST", "/api/v2/dags/etl/dagRuns/list", { body: {} });
      expect(r.status).toBe(422);
      expect(r.body.detail[0].loc).toEqual(["path", "dag_id"]);
      const extra = await h.json("POST", "/api/v2/dags/~/dagRuns/list", { body: { dag_idz: ["etl"] } });
      expect(extra.status).toBe(422);
      expect(extra.body.detail[0].loc).toEqual(["body", "dag_idz"]);
    });
  });
});
