import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  const XCOMS = "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract/xcomEntries";

  async function withRun() {
    const h = await makeHarness();
    await h.call("POST", "/api/v2/dags/etl/dagRuns", { body: { dag_run_id: "r1", logical_date: null } });
    return h;
  }

  describe("xcomEntries create and update", () => {
    test("POST creates (201) with the value; a second POST of the key is 409", async () => {
      const h = await withRun();
      const r = await h.json("POST", XCOMS, { body: { key: "rows", value: { n: 3 } } });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ key: "rows", value: { n: 3 }, map_index: -1, task_id: "extract", dag_id: "etl", run_id: "r1" });
      const again = await h.json("POST", XCOMS, { body: { key: "rows", value: 4 } });
      expect(again.status).toBe(409);
      expect(again.body.detail).toContain("already exists");
      expect((await h.json("GET", `${XCOMS}/rows`)).body.value).toEqual({ n: 3 });
    });

    test("PATCH updates an existing entry, 404 for a missing one", async () => {
      const h = await withRun();
      await h.json("POST", XCOMS, { body: { key: "rows", value: 1 } });
      const r = await h.json("PATCH", `${XCOMS}/rows`, { body: { value: [1, 2] } });
      expect(r.status).toBe(200);
      expect(r.body.value).toEqual([1, 2]);
      const missing = await h.json("PATCH", `${XCOMS}/nope`, { body: { value: 1 } });
      expect(missing.status).toBe(404);
      expect(missing.body.detail).toContain("nope");
    });

    test("value is required, unknown fields are refused, a viewer may not write", async () => {
      const h = await withRun();
      const noValue = await h.json("POST", XCOMS, { body: { key: "rows" } });
      expect(noValue.status).toBe(422);
      expect(noValue.body.detail[0].loc).toEqual(["body", "value"]);
      expect((await h.json("POST", XCOMS, { body: { key: "rows", value: 1, extra: 1 } })).status).toBe(422);
      expect((await h.call("POST", XCOMS, { body: { key: "rows", value: 1 }, token: await h.token("viewer") })).status).toBe(403);
    });

    test("get with stringify gives the value as text", async () => {
      const h = await withRun();
      await h.json("POST", XCOMS, { body: { key: "rows", value: { n: 3 } } });
      expect((await h.json("GET", `${XCOMS}/rows?stringify=true`)).body.value).toBe('{"n":3}');
      expect((await h.json("GET", `${XCOMS}/rows?deserialize=true`)).body.value).toEqual({ n: 3 });
    });
  });

  describe("xcomEntries list across DAGs and runs", () => {
    test("~ for dag, run and task; patterns; dates of the run; a map index other than -1 lists none", async () => {
      const h = await withRun();
      await h.call("POST", "/api/v2/dags/report/dagRuns", { body: { dag_run_id: "q1", logical_date: "2026-02-01T00:00:00Z" } });
      await h.json("POST", XCOMS, { body: { key: "rows", value: 1 } });
      await h.json("POST", "/api/v2/dags/report/dagRuns/q1/taskInstances/render/xcomEntries", { body: { key: "Row_count", value: 2 } });
      const all = "/api/v2/dags/~/dagRuns/~/taskInstances/~/xcomEntries";
      const keys = (body: any) => body.xcom_entries.map((x: any) => `${x.dag_id}/${x.run_id}/${x.task_id}/${x.key}`);
      expect(keys((await h.json("GET", `${all}?order_by=key`)).body)).toEqual(["report/q1/render/Row_count", "etl/r1/extract/rows"]);
      expect(keys((await h.json("GET", `${all}?xcom_key_pattern=row%25`)).body)).toHaveLength(2);
      expect(keys((await h.json("GET", `${all}?xcom_key_pattern=row\\_%25`)).body)).toEqual(["report/q1/render/Row_count"]);
      expect(keys((await h.json("GET", `${all}?dag_display_name_pattern=rep%25&task_id_pattern=%25der`)).body)).toHaveLength(1);
      expect(keys((await h.json("GET", `${all}?run_id_pattern=r%25`)).body)).toEqual(["etl/r1/extract/rows"]);
      const dated = await h.json("GET", `${all}?logical_date_gte=2026-01-15`);
      expect(keys(dated.body)).toEqual(["report/q1/render/Row_count"]);
      expect(dated.body.xcom_entries[0].logical_date).toBe("2026-02-01T00:00:00.000Z");
      expect((await h.json("GET", "/api/v2/dags/etl/dagRuns/~/taskInstances/~/xcomEntries")).body.total_entries).toBe(1);
      expect((await h.json("GET", `${all}?map_index=0`)).body.total_entries).toBe(0);
      expect((await h.json("GET", `${all}?logical_date_gte=soon`)).status).toBe(422);
      expect((await h.json("GET", "/api/v2/dags/nope/dagRuns/~/taskInstances/~/xcomEntries")).status).toBe(404);
    });
  });
});
