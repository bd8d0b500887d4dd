import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  describe("audit log: GET /api/v2/eventLogs", () => {
    test("every successful mutating call leaves an entry: who, when, what, and which DAG and run", async () => {
      const h = await makeHarness();
      const run = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: "2026-02-01T00:00:00Z", conf: { limit: 3 } } });
      expect(run.status).toBe(200);
      await h.json("PATCH", "/api/v2/dags/report", { body: { is_paused: false } });
      await h.json("POST", "/api/v2/variables", { body: { key: "plain", value: "v" } });
      // Reads and failed calls leave nothing.
      await h.json("GET", "/api/v2/dags");
      await h.json("POST", "/api/v2/variables", { body: { key: "plain", value: "again" } });
      const list = await h.json("GET", "/api/v2/eventLogs");
      expect(list.status).toBe(200);
      expect(list.body.total_entries).toBe(3);
      const [trigger, patch, variable] = list.body.event_logs;
      expect(trigger).toMatchObject({
        event: "trigger_dag_run",
        owner: "admin",
        dag_id: "etl",
        run_id: run.body.dag_run_id,
        task_id: null,
        when: "2026-03-01T12:00:00.000Z",
        logical_date: "2026-02-01T00:00:00.000Z",
      });
      expect(JSON.parse(trigger.extra)).toMatchObject({ conf: { limit: 3 } });
      expect(patch).toMatchObject({ event: "patch_dag", dag_id: "report" });
      expect(variable).toMatchObject({ event: "post_variable", dag_id: null });
      expect(JSON.parse(variable.extra)).toEqual({ key: "plain", value: "v" });
      const one = await h.json("GET", `/api/v2/eventLogs/${trigger.event_log_id}`);
      expect(one.body).toEqual(trigger);
      expect((await h.json("GET", "/api/v2/eventLogs/999")).status).toBe(404);
    });

    test("extra names the object a call changed by its path: variable, pool, connection, user, backfill", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/variables", { body: { key: "v1", value: "x" } });
      await h.json("POST", "/api/v2/pools", { body: { name: "gpu", slots: 1 } });
      await h.json("POST", "/api/v2/connections", { body: { connection_id: "c1", conn_type: "http", password: "hunter22" } });
      await h.json("POST", "/api/v2/leoflow/users", { body: { username: "ada", password: "correct horse", role: "viewer" } });
      const backfill = await h.json("POST", "/api/v2/backfills", {
        body: { dag_id: "etl", from_date: "2026-02-01T00:00:00Z", to_date: "2026-02-02T00:00:00Z" },
      });
      const changes: [string, string][] = [
        ["PATCH", "/api/v2/connections/c1"],
        ["DELETE", "/api/v2/variables/v1"],
        ["DELETE", "/api/v2/pools/gpu"],
        ["DELETE", "/api/v2/connections/c1"],
        ["DELETE", "/api/v2/leoflow/users/ada"],
        ["PUT", `/api/v2/backfills/${backfill.body.id}/pause`],
      ];
      for (const [method, path] of changes) {
        const body = method === "PATCH" ? { connection_id: "c1", conn_type: "http", password: "n3w-secret" } : undefined;
        expect((await h.call(method, path, { body })).status).toBeLessThan(300);
      }
      const logs = (await h.json("GET", "/api/v2/eventLogs?order_by=-event_log_id&limit=6")).body.event_logs.reverse();
      expect(logs.map((l: any) => [l.event, JSON.parse(l.extra)])).toEqual([
        ["patch_connection", { connection_id: "c1", conn_type: "http", password: "***" }],
        ["delete_variable", { variable_key: "v1" }],
        ["delete_pool", { pool_name: "gpu" }],
        ["delete_connection", { connection_id: "c1" }],
        ["delete_leoflow_users", { username: "ada" }],
        ["pause_backfill", { backfill_id: String(backfill.body.id) }],
      ]);
      expect(JSON.stringify(logs)).not.toContain("n3w-secret");
    });

    test("secrets never reach the log: passwords, connection extra, secret variable values", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/connections", {
        body: { connection_id: "c", conn_type: "http", password: "hunter22", extra: '{"region":"eu","token":"t0k"}' },
      });
      await h.json("POST", "/api/v2/variables", { body: { key: "api_token", value: "s3cr3t" } });
      await h.json("POST", "/api/v2/variables", { body: { key: "webhook", value: "https://hook/abc", is_encrypted: true } });
      await h.json("PATCH", "/api/v2/variables/api_token", { body: { key: "api_token", value: "n3w" } });
      await h.json("PATCH", "/api/v2/variables", {
        body: {
          actions: [
            {
              action: "create",
              entities: [
                { key: "db_password", value: "pw" },
                { key: "ok", value: "shown" },
              ],
            },
          ],
        },
      });
      const logs = (await h.json("GET", "/api/v2/eventLogs")).body.event_logs;
      const all = JSON.stringify(logs);
      for (const secret of ["hunter22", "t0k", "eu", "s3cr3t", "hook/abc", "n3w", '"pw"']) expect(all).not.toContain(secret);
      expect(logs.map((l: any) => l.event)).toEqual([
        "post_connection",
        "post_variable",
        "post_variable",
        "patch_variable",
        "bulk_variables",
      ]);
      expect(JSON.parse(logs[0].extra)).toMatchObject({ connection_id: "c", password: "***", extra: "***" });
      expect(JSON.parse(logs[4].extra).actions[0].entities[1]).toEqual({ key: "ok", value: "shown" });
    });

    test("filters: dag_id, event, included/excluded events, owner, patterns, before/after; order_by and paging", async () => {
      const h = await makeHarness();
      await h.json("PATCH", "/api/v2/dags/etl", { body: { is_paused: true } });
      await h.json("PATCH", "/api/v2/dags/report", { body: { is_paused: false } });
      await h.json("POST", "/api/v2/pools", { body: { name: "gpu", slots: 1 } });
      const events = async (q: string) =>
        (await h.json("GET", `/api/v2/eventLogs?${q}`)).body.event_logs.map((l: any) => `${l.event}:${l.dag_id}`);
      expect(await events("dag_id=etl")).toEqual(["patch_dag:etl"]);
      expect(await events("event=post_pool")).toEqual(["post_pool:null"]);
      expect(await events("included_events=post_pool&included_events=patch_dag")).toHaveLength(3);
      expect(await events("excluded_events=patch_dag")).toEqual(["post_pool:null"]);
      expect(await events("dag_id_pattern=rep")).toEqual(["patch_dag:report"]);
      expect(await events("event_pattern=post%25")).toEqual(["post_pool:null"]);
      expect(await events("owner=admin")).toHaveLength(3);
      expect(await events("owner=nobody")).toEqual([]);
      expect(await events("after=2026-03-01T12:00:00Z")).toHaveLength(3);
      expect(await events("before=2026-03-01T12:00:00Z")).toEqual([]);
      expect(await events("order_by=-event_log_id&limit=1")).toEqual(["post_pool:null"]);
      expect((await h.json("GET", "/api/v2/eventLogs?limit=1&offset=1")).body).toMatchObject({
        total_entries: 3,
        event_logs: [{ dag_id: "report" }],
      });
      expect((await h.json("GET", "/api/v2/eventLogs?order_by=nope")).status).toBe(400);
      expect((await h.json("GET", "/api/v2/eventLogs?before=yesterday")).status).toBe(422);
    });

    test("only an admin reads the audit log; a viewer's refused write leaves no entry", async () => {
      const h = await makeHarness();
      const viewer = await h.token("viewer");
      expect((await h.json("GET", "/api/v2/eventLogs", { token: viewer })).status).toBe(403);
      expect((await h.json("PATCH", "/api/v2/dags/etl", { body: { is_paused: true }, token: viewer })).status).toBe(403);
      expect((await h.json("GET", "/api/v2/eventLogs")).body.total_entries).toBe(0);
    });
  });
});
