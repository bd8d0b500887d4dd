/**
 * A task instance's rendered_fields (Airflow's "Rendered Templates"): a bash and an http task's templated fields as
 * their try renders them (the run's dates, conf over params, variables, connections, an upstream's XCom), secrets
 * masked as in the log, and nothing before the try starts.
 */
import { expect, test } from "bun:test";
import type { TaskInstancePatch, TaskState } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { forEachApiStore, NOW, type Harness } from "./harness";

const TPL = {
  dag_id: "tpl",
  params: { limit: { type: "integer", default: 10 } },
  tasks: [
    {
      task_id: "extract",
      operator: "bash",
      bash_command: "extract --day {{ ds }} --limit {{ params.limit }} --token {{ var.value.api_token }} --region {{ var.value.region }}",
      env: { DAY: "{{ ds_nodash }}", API_KEY: "literal-key", DB: "{{ conn.wh.login }}:{{ conn.wh.password }}@{{ conn.wh.host }}" },
    },
    {
      task_id: "notify",
      operator: "http",
      upstream: ["extract"],
      http: {
        method: "POST",
        url: "http://hooks.example/{{ dag_id }}/{{ run_id }}",
        headers: { Authorization: "Bearer {{ var.value.api_token }}", "X-Day": "{{ ds }}" },
        query: { try: "{{ try_number }}", page: 1 },
        json: { rows: "{{ xcom.extract.rows }}", note: "rows of {{ ds }}" },
      },
    },
  ],
};

forEachApiStore((makeHarness) => {
  const TI = "/api/v2/dags/tpl/dagRuns/r1/taskInstances";

  async function setUp(): Promise<{ h: Harness; start: (taskId: string) => Promise<void> }> {
    const h = await makeHarness();
    await h.store.upsertDag("default", { spec: parseDagSpec(TPL), fileloc: "/dags/tpl.json", pausedOnCreate: false, now: NOW });
    await h.call("POST", "/api/v2/variables", { body: { key: "api_token", value: "tok-123456" } });
    await h.call("POST", "/api/v2/variables", { body: { key: "region", value: "eu-west" } });
    await h.call("POST", "/api/v2/connections", {
      body: { connection_id: "wh", conn_type: "postgres", host: "db.internal", login: "loader", password: "pg-s3cret" },
    });
    const r = await h.call("POST", "/api/v2/dags/tpl/dagRuns", {
      body: { dag_run_id: "r1", logical_date: "2026-02-28T00:00:00Z", conf: { limit: 5 } },
    });
    expect(r.status).toBe(200);
    const start = async (taskId: string) => {
      const ti = (await h.store.getTaskInstance("default", "tpl", "r1", taskId))!;
      const step = (from: TaskState, to: TaskState, patch: TaskInstancePatch = {}) =>
        h.store.applyTransitions([{ id: ti.id, from: [from], to, patch }], NOW);
      await step("none", "scheduled");
      await step("scheduled", "queued", { queued_at: NOW });
      await step("queued", "running", { start_date: NOW, hostname: "w1" });
    };
    return { h, start };
  }

  test("a bash task's bash_command and env, rendered with the run's values; secrets and sensitive names masked", async () => {
    const { h, start } = await setUp();
    // Airflow shows rendered fields once the task has run: none before its try starts.
    expect((await h.json("GET", `${TI}/extract`)).body.rendered_fields).toEqual({});
    await start("extract");
    const got = (await h.json("GET", `${TI}/extract`)).body;
    expect(got.rendered_fields).toEqual({
      // api_token's key looks secret: its value is masked wherever it lands, as in the try's log.
      bash_command: "extract --day 2026-02-28 --limit 5 --token *** --region eu-west",
      // API_KEY's name is sensitive (masked whatever its value); the connection's password is a secret.
      env: { DAY: "20260228", API_KEY: "***", DB: "loader:***@db.internal" },
    });
    // The same answer for the instance addressed by its map index (-1: not mapped).
    expect((await h.json("GET", `${TI}/extract/-1`)).body.rendered_fields).toEqual(got.rendered_fields);
  });

  test("an http task's url, headers, query and json, with an upstream's XCom keeping its type in json", async () => {
    const { h, start } = await setUp();
    await h.store.insertXCom({ team: "default", dag_id: "tpl", run_id: "r1", task_id: "extract", key: "return_value" }, { rows: 42 }, NOW);
    expect((await h.json("GET", `${TI}/notify`)).body.rendered_fields).toEqual({});
    await start("notify");
    expect((await h.json("GET", `${TI}/notify`)).body.rendered_fields).toEqual({
      "http.url": "http://hooks.example/tpl/r1",
      "http.headers": { Authorization: "***", "X-Day": "2026-02-28" },
      "http.query": { try: "1", page: 1 },
      "http.json": { rows: 42, note: "rows of 2026-02-28" },
    });
  });

  test("a field that cannot be rendered now is left out; the others are shown", async () => {
    const { h, start } = await setUp();
    await h.call("DELETE", "/api/v2/variables/region");
    await start("extract");
    const fields = (await h.json("GET", `${TI}/extract`)).body.rendered_fields;
    expect(Object.keys(fields)).toEqual(["env"]);
  });
});
