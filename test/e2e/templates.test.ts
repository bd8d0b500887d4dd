/**
 * Task context in the compiled binary: a bash task whose command is a template reading a variable and a
 * connection password (the proof: neither appears in its log), the same values through env_from and
 * `leoflow task conn get`, an unknown reference failing the try with its name, and a python task whose
 * DAG's `requirements` are installed offline from a wheel folder (--pip-find-links) into a virtual
 * environment under the data dir, built once and reused by the next run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTinyWheel } from "../support/tiny-wheel";
import { startLeoflow, waitForRun, type Leoflow } from "./harness";

const API_KEY = "KEY-e2e-templ-123";
const PASSWORD = "PW-e2e-templ-456";
const work = mkdtempSync(join(tmpdir(), "leoflow-e2e-templates-"));
const dags = join(work, "dags");
const wheels = join(work, "wheels");

const templated = {
  dag_id: "e2e_templates",
  params: { who: { default: "ada" } },
  tasks: [
    {
      task_id: "templated",
      operator: "bash",
      env: { DAY: "{{ ds_nodash }}" },
      env_from: { DB_PW: "conn:warehouse.password" },
      bash_command: [
        'echo "hello {{ params.who | upper }} on {{ ds }} ($DAY)"',
        "echo 'key={{ var.value.api_key }} pw={{ conn.warehouse.password }} host={{ conn.warehouse.host }}'",
        'echo "env pw=$DB_PW cli pw=$(leoflow task conn get warehouse --field password)"',
        `printf '{"key":"%s","pw":"%s"}' '{{ var.value.api_key }}' "$DB_PW" > "$LEOFLOW_RETURN_VALUE_PATH"`,
      ].join("\n"),
    },
    { task_id: "unknown", operator: "bash", upstream: ["templated"], bash_command: "echo {{ var.value.not_there }}" },
  ],
};

const venv = {
  dag_id: "e2e_venv",
  requirements: ["leoflow_tiny==1.0"],
  tasks: [
    {
      task_id: "hello",
      operator: "python",
      python_code: [
        "import json, os, sys, leoflow_tiny",
        "print(leoflow_tiny.hello())",
        "json.dump({'msg': leoflow_tiny.hello(), 'venv': sys.prefix != sys.base_prefix}, open(os.environ['LEOFLOW_RETURN_VALUE_PATH'], 'w'))",
      ].join("\n"),
    },
  ],
};

describe("templates, secrets and python requirements (compiled binary)", () => {
  let lf: Leoflow;

  beforeAll(async () => {
    mkdirSync(dags);
    mkdirSync(wheels);
    buildTinyWheel(wheels, "leoflow_tiny", "1.0");
    writeFileSync(join(dags, "templated.json"), JSON.stringify(templated));
    writeFileSync(join(dags, "venv.json"), JSON.stringify(venv));
    lf = await startLeoflow({ dagsFrom: dags, args: ["--pip-find-links", wheels] });
    const created = await Promise.all([
      lf.api("POST", "/api/v2/variables", { key: "api_key", value: API_KEY }),
      lf.api("POST", "/api/v2/connections", {
        connection_id: "warehouse",
        conn_type: "postgres",
        host: "db.internal",
        login: "etl",
        password: PASSWORD,
      }),
    ]);
    expect(created.map((r) => r.status)).toEqual([201, 201]);
  }, 30_000);

  afterAll(async () => {
    await lf?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const log = async (dag: string, run: string, task: string) =>
    (await lf.api("GET", `/api/v2/dags/${dag}/dagRuns/${run}/taskInstances/${task}/logs/1`)).body.content
      .map((l: any) => l.event)
      .join("\n");

  test("a templated bash task reads a variable and a connection password; neither appears in its log", async () => {
    expect(
      (await lf.api("POST", "/api/v2/dags/e2e_templates/dagRuns", { dag_run_id: "t-1", logical_date: "2026-05-01T00:00:00Z" })).status,
    ).toBe(200);
    const run = await waitForRun(lf, "e2e_templates", "t-1");
    expect(run.state).toBe("failed"); // `unknown` fails; `templated` succeeds
    const xcom = await lf.api("GET", "/api/v2/dags/e2e_templates/dagRuns/t-1/taskInstances/templated/xcomEntries/return_value");
    expect(xcom.body.value).toEqual({ key: API_KEY, pw: PASSWORD });
    const text = await log("e2e_templates", "t-1", "templated");
    expect(text).toContain("hello ADA on 2026-05-01 (20260501)");
    expect(text).toContain("key=*** pw=*** host=db.internal");
    expect(text).toContain("env pw=*** cli pw=***");
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(PASSWORD);

    const ti = (await lf.api("GET", "/api/v2/dags/e2e_templates/dagRuns/t-1/taskInstances/unknown")).body;
    expect(ti.state).toBe("failed");
    expect(await log("e2e_templates", "t-1", "unknown")).toContain(
      `task failed: template {{ var.value.not_there }} in bash_command: variable "not_there" does not exist in this task's team`,
    );
  }, 60_000);

  test("a python task runs in a virtual environment with the DAG's requirements, built once and reused", async () => {
    for (const id of ["v-1", "v-2"]) {
      expect((await lf.api("POST", "/api/v2/dags/e2e_venv/dagRuns", { dag_run_id: id, logical_date: null })).status).toBe(200);
      expect((await waitForRun(lf, "e2e_venv", id, 240_000)).state).toBe("success");
      const xcom = await lf.api("GET", `/api/v2/dags/e2e_venv/dagRuns/${id}/taskInstances/hello/xcomEntries/return_value`);
      expect(xcom.body.value).toEqual({ msg: "hello from leoflow_tiny 1.0", venv: true });
    }
    expect(await log("e2e_venv", "v-1", "hello")).toContain("pip: Successfully installed leoflow_tiny-1.0");
    expect(await log("e2e_venv", "v-2", "hello")).toMatch(/python environment .*\/data\/venvs\/[0-9a-f]{64} \(reused\)/);
    expect(readdirSync(join(lf.dir, "data", "venvs")).filter((d) => /^[0-9a-f]{64}$/.test(d))).toHaveLength(1);
  }, 300_000);
});
