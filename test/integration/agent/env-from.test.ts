/**
 * Task context end to end on a real SQLite store behind the real agent RPC: a bash task reads a variable and
 * a connection password through env_from and through `leoflow task … get`, a ts task through ctx.var and
 * ctx.conn. What we assert is what a user sees: the values arrived (as the task's return value), the stored
 * log shows "***" where the secrets were printed and never the secrets, and a missing variable fails the try
 * naming it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TaskInstanceRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { openStore, type Store } from "../../../src/store";
import { serveAgentRpc } from "../../support/agent-rpc-server";
import { AgentTokens } from "../../../src/auth/agent-token";
import { MaskFileReader, recordSecrets, runAgent } from "../../../src/agent";
import { silentLogger } from "../../../src/observability/logger";

const PASSWORD = "Pw-5ecret/with@chars";
const API_KEY = "key-0123456789";
const dir = mkdtempSync(join(tmpdir(), "leoflow-env-from-it-"));
const dagFile = join(dir, "ctx_dag.ts");

const rawDag = {
  dag_id: "env_from_it",
  tasks: [
    {
      task_id: "from_env",
      operator: "bash",
      env_from: { API_KEY: "var:api_key", REGION: "var:region", DB_PASSWORD: "conn:warehouse.password", DB_URI: "conn:warehouse" },
      bash_command: [
        'echo "region=$REGION"',
        'echo "pw=$DB_PASSWORD"',
        'echo "uri=$DB_URI"',
        'echo "key=$API_KEY"',
        `printf '{"pw":"%s","key":"%s","uri":"%s"}' "$DB_PASSWORD" "$API_KEY" "$DB_URI" > "$LEOFLOW_RETURN_VALUE_PATH"`,
      ].join("\n"),
    },
    {
      task_id: "from_cli",
      operator: "bash",
      bash_command: [
        "set -e",
        "PW=$(leoflow task conn get warehouse --field password)",
        'echo "cli pw=$PW"',
        "leoflow task var get api_key",
        "leoflow task var get region",
        `printf '{"pw":"%s"}' "$PW" > "$LEOFLOW_RETURN_VALUE_PATH"`,
      ].join("\n"),
    },
    { task_id: "from_ts", operator: "ts" },
    { task_id: "missing_var", operator: "bash", env_from: { TOKEN: "var:nope" }, bash_command: "echo should not run" },
    { task_id: "missing_cli", operator: "bash", bash_command: "leoflow task var get nope" },
  ],
};

const TS_DAG = `import { dag } from "leoflow/sdk";
dag({ dag_id: "env_from_it" }, ({ ts }) => {
  ts({ task_id: "from_ts" }, async (ctx) => {
    const wh = await ctx.conn("warehouse");
    console.log("ts pw=" + wh.password);
    const missing = await ctx.var("nope").then(() => "found", (e) => String(e.message));
    return { pw: wh.password, host: wh.host, key: await ctx.var("api_key"), missing };
  });
});
`;

let store: Store;
let stopRpc: (() => void) | undefined;
let url: string;
const tokens = new AgentTokens("integration-test-secret-32-bytes");
const now = () => new Date();

beforeAll(async () => {
  writeFileSync(dagFile, TS_DAG);
  store = openStore("sqlite::memory:");
  await store.migrate();
  const spec = parseDagSpec(rawDag);
  const dag = await store.upsertDag("default", { spec, fileloc: dagFile, pausedOnCreate: false, now: now() });
  await store.putVariable("default", { key: "api_key", value: API_KEY, description: null }, now());
  await store.putVariable("default", { key: "region", value: "eu-west", description: null }, now());
  await store.putConnection(
    "default",
    {
      connection_id: "warehouse",
      conn_type: "postgres",
      description: null,
      host: "db.internal",
      login: "etl",
      password: PASSWORD,
      schema: "dw",
      port: 5432,
      extra: null,
    },
    now(),
  );
  await store.createDagRun({
    team: dag.team,
    dag_id: spec.dag_id,
    run_id: "manual__it",
    run_type: "manual",
    logical_date: new Date("2026-01-01T00:00:00Z"),
    data_interval_start: null,
    data_interval_end: null,
    conf: {},
    version_id: dag.version_id,
    queued_at: now(),
    tasks: spec.tasks.map((t) => ({
      task_id: t.task_id,
      operator: t.operator,
      max_tries: t.retries,
      pool: t.pool,
      pool_slots: t.pool_slots,
      priority_weight: t.priority_weight,
    })),
  });
  ({ url, stop: stopRpc } = serveAgentRpc(store, tokens));
});

afterAll(async () => {
  stopRpc?.();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(taskId: string): Promise<{ ti: TaskInstanceRecord; logs: string[]; xcom: unknown }> {
  const t = (await store.getTaskInstance("default", "env_from_it", "manual__it", taskId)) as TaskInstanceRecord;
  await store.applyTransitions([{ id: t.id, from: ["none"], to: "scheduled" }], now());
  await store.applyTransitions([{ id: t.id, from: ["scheduled"], to: "queued", patch: { queued_at: now() } }], now());
  const token = await tokens.issue({ tiId: t.id, tryNumber: t.try_number, dagId: t.dag_id, runId: t.run_id, taskId: t.task_id }, 300);
  await runAgent({ server: url, token, logger: silentLogger, hostname: "it-host" });
  const logs = (await store.readLogs(t.id, 1)).map((l) => `${l.stream}: ${l.line}`);
  const xcom = await store.getXCom({ team: "default", dag_id: "env_from_it", run_id: "manual__it", task_id: taskId, key: "return_value" });
  return {
    ti: (await store.getTaskInstance("default", "env_from_it", "manual__it", taskId)) as TaskInstanceRecord,
    logs,
    xcom: xcom?.value,
  };
}

const leaks = (logs: string[]) =>
  logs.filter((l) => l.includes(PASSWORD) || l.includes(encodeURIComponent(PASSWORD)) || l.includes(API_KEY));

describe("env_from, leoflow task and ctx read the task's variables and connections", () => {
  test("env_from: the values arrive in the environment and the secrets are *** in the stored log", async () => {
    const r = await run("from_env");
    expect(r.ti.state).toBe("success");
    expect(r.xcom).toEqual({ pw: PASSWORD, key: API_KEY, uri: `postgres://etl:${encodeURIComponent(PASSWORD)}@db.internal:5432/dw` });
    expect(r.logs).toContain("stdout: region=eu-west"); // not a secret: shown as is
    expect(r.logs).toContain("stdout: pw=***");
    expect(r.logs).toContain("stdout: key=***");
    expect(r.logs).toContain("stdout: uri=postgres://etl:***@db.internal:5432/dw");
    expect(leaks(r.logs)).toEqual([]);
  });

  test("leoflow task conn/var get: prints the values inside the task; what it printed is masked in the log", async () => {
    const r = await run("from_cli");
    expect(r.ti.state).toBe("success");
    expect(r.xcom).toEqual({ pw: PASSWORD });
    expect(r.logs).toContain("stdout: cli pw=***");
    expect(r.logs).toContain("stdout: ***"); // `leoflow task var get api_key` printed straight to the log
    expect(r.logs).toContain("stdout: eu-west");
    expect(leaks(r.logs)).toEqual([]);
  });

  test("ts: ctx.conn and ctx.var return the values, a missing one rejects naming it, the password is masked", async () => {
    const r = await run("from_ts");
    expect(r.ti.state).toBe("success");
    expect(r.xcom).toEqual({
      pw: PASSWORD,
      host: "db.internal",
      key: API_KEY,
      missing: `variable "nope" does not exist in this task's team; create it with 'leoflow variables set nope VALUE' (or POST /api/v2/variables)`,
    });
    expect(r.logs).toContain("stdout: ts pw=***");
    expect(leaks(r.logs)).toEqual([]);
  });

  test("an env_from variable that does not exist fails the try naming it; the task never runs", async () => {
    const r = await run("missing_var");
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toBe(
      `env_from could not be resolved: TOKEN (var:nope): variable "nope" does not exist in this task's team; create it with 'leoflow variables set nope VALUE' (or POST /api/v2/variables)`,
    );
    expect(r.logs.some((l) => l.includes("should not run"))).toBe(false);
  });

  test("leoflow task var get of a missing variable exits 1 and says so in the log", async () => {
    const r = await run("missing_cli");
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toBe("exit code 1");
    expect(r.logs.some((l) => l.startsWith('stderr: leoflow task var get: variable "nope" does not exist'))).toBe(true);
  });
});

describe("the mask file", () => {
  test("the reader returns what was appended since the last read, and holds back a half-written line", () => {
    const path = join(dir, "mask");
    const reader = new MaskFileReader(path);
    expect(reader.readNew()).toEqual([]); // not created yet
    recordSecrets(["one", "two\nlines"], { LEOFLOW_MASK_FILE: path });
    expect(reader.readNew()).toEqual(["one", "two\nlines"]);
    appendFileSync(path, '"thr');
    expect(reader.readNew()).toEqual([]);
    appendFileSync(path, 'ee"\n');
    expect(reader.readNew()).toEqual(["three"]);
  });
});
