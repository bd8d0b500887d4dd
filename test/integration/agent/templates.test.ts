/**
 * Templates rendered at GetTaskSpec, on a real SQLite store (with encryption) behind the real agent RPC and
 * the real agent: a bash task's command and env see the run, params, an upstream XCom, variables and a
 * connection; the secrets among them are "***" in the stored log; an unknown reference fails the try naming
 * it before anything runs. Also: an encrypted variable read by `leoflow task var get` is masked whatever its
 * key, and `leoflow task` keeps working after the token the task started with has expired.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runAgent } from "../../../src/agent";
import { AgentTokens } from "../../../src/auth/agent-token";
import type { TaskInstanceRecord } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { silentLogger } from "../../../src/observability/logger";
import { serveAgentRpc } from "../../support/agent-rpc-server";
import { SecretsCipher, openStore, withSecrets, type Store } from "../../../src/store";

const PASSWORD = "Pw-5ecret/with@chars";
const API_KEY = "key-0123456789";
const TARGET = "target-in-the-vault"; // stored encrypted under a key that does not look secret
const dir = mkdtempSync(join(tmpdir(), "leoflow-templates-it-"));
const goFile = join(dir, "go");
/** The agents' temp folders go here (TMPDIR), so the test can find a running try's token file. */
const agentTmp = join(dir, "agent-tmp");
const savedTmp = process.env.TMPDIR;

const rawDag = {
  dag_id: "templates_it",
  params: { limit: { default: 5 } },
  requirements: ["leoflow_not_in_the_folder==1.0"],
  tasks: [
    { task_id: "up", operator: "bash", bash_command: "true" },
    {
      task_id: "templated",
      operator: "bash",
      upstream: ["up"],
      env: { DAY: "{{ ds_nodash }}", PW: "{{ conn.warehouse.password }}" },
      bash_command: [
        "echo 'run {{ dag.dag_id }}/{{ run_id }} on {{ ds }} limit {{ params.limit }} rows {{ ti.xcom_pull(task_ids=\"up\") }}'",
        'echo "day=$DAY pw=$PW"',
        "echo 'key={{ var.value.api_key }} target={{ var.value.deploy_target }} region={{ var.value.region | upper }}'",
        "echo 'login={{ conn.warehouse.login }} pw={{ conn.warehouse.password }} literal={{ \"{{\" }}'",
        `printf '{"pw":"%s","key":"%s"}' "$PW" '{{ var.value.api_key }}' > "$LEOFLOW_RETURN_VALUE_PATH"`,
      ].join("\n"),
    },
    { task_id: "unknown_ref", operator: "bash", bash_command: "echo should not run {{ var.value.nope }}" },
    { task_id: "bad_env", operator: "bash", env: { X: "{{ params.nope }}" }, bash_command: "echo should not run" },
    { task_id: "encrypted_cli", operator: "bash", bash_command: "leoflow task var get deploy_target" },
    {
      task_id: "long_cli",
      operator: "bash",
      bash_command: `while [ ! -e ${goFile} ]; do sleep 0.1; done; leoflow task var get region`,
    },
    { task_id: "py_no_venvs", operator: "python", python_code: "print('system python')" },
    { task_id: "py_pip_fails", operator: "python", python_code: "print('should not run')" },
  ],
};

let store: Store;
let stopRpc: (() => void) | undefined;
let url: string;
const tokens = new AgentTokens("integration-test-secret-32-bytes");
/** The control plane's clock: the token-expiry test moves it forward. */
let skewMs = 0;
const now = () => new Date(Date.now() + skewMs);
const TTL = 300;

beforeAll(async () => {
  mkdirSync(agentTmp);
  process.env.TMPDIR = agentTmp;
  store = withSecrets(openStore("sqlite::memory:"), new SecretsCipher(Buffer.alloc(32, 7)));
  await store.migrate();
  const spec = parseDagSpec(rawDag);
  const dag = await store.upsertDag("default", { spec, fileloc: join(dir, "dag.json"), pausedOnCreate: false, now: now() });
  await store.putVariable("default", { key: "api_key", value: API_KEY, description: null }, now());
  await store.putVariable("default", { key: "region", value: "eu-west", description: null }, now());
  await store.putVariable("default", { key: "deploy_target", value: TARGET, description: null, is_encrypted: true }, now());
  await store.putConnection(
    "default",
    {
      connection_id: "warehouse",
      conn_type: "postgres",
      description: null,
      host: "db",
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
    logical_date: new Date("2026-03-01T06:00:00Z"),
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
  await store.setXCom({ team: "default", dag_id: "templates_it", run_id: "manual__it", task_id: "up", key: "return_value" }, 42, now());
  ({ url, stop: stopRpc } = serveAgentRpc(store, tokens, { renewTokenTtlSeconds: TTL, now }));
});

afterAll(async () => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  stopRpc?.();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(
  taskId: string,
  whileRunning?: () => Promise<void>,
  agentEnv?: Record<string, string>,
): Promise<{ ti: TaskInstanceRecord; logs: string[]; xcom: unknown }> {
  const t = (await store.getTaskInstance("default", "templates_it", "manual__it", taskId)) as TaskInstanceRecord;
  await store.applyTransitions([{ id: t.id, from: ["none"], to: "scheduled" }], now());
  await store.applyTransitions([{ id: t.id, from: ["scheduled"], to: "queued", patch: { queued_at: now() } }], now());
  const id = { tiId: t.id, tryNumber: t.try_number, dagId: t.dag_id, runId: t.run_id, taskId: t.task_id, renewable: true };
  const token = await tokens.issue(id, TTL, now());
  const agent = runAgent({ server: url, token, logger: silentLogger, hostname: "it-host", env: { ...process.env, ...agentEnv } });
  await whileRunning?.();
  await agent;
  const logs = (await store.readLogs(t.id, 1)).map((l) => `${l.stream}: ${l.line}`);
  const xcom = await store.getXCom({ team: "default", dag_id: "templates_it", run_id: "manual__it", task_id: taskId, key: "return_value" });
  return {
    ti: (await store.getTaskInstance("default", "templates_it", "manual__it", taskId)) as TaskInstanceRecord,
    logs,
    xcom: xcom?.value,
  };
}

const leaks = (logs: string[]) => logs.filter((l) => [PASSWORD, encodeURIComponent(PASSWORD), API_KEY, TARGET].some((s) => l.includes(s)));

describe("templates in bash_command and env, rendered at GetTaskSpec", () => {
  test("the task sees rendered values; secret variables and the connection password are *** in its log", async () => {
    const r = await run("templated");
    expect(r.ti.state).toBe("success");
    expect(r.xcom).toEqual({ pw: PASSWORD, key: API_KEY });
    expect(r.logs).toContain("stdout: run templates_it/manual__it on 2026-03-01 limit 5 rows 42");
    expect(r.logs).toContain("stdout: day=20260301 pw=***");
    expect(r.logs).toContain("stdout: key=*** target=*** region=EU-WEST");
    expect(r.logs).toContain("stdout: login=etl pw=*** literal={{");
    expect(leaks(r.logs)).toEqual([]);
  });

  test("an unknown variable fails the try naming the template and field; the command never runs", async () => {
    const r = await run("unknown_ref");
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toBe(
      `template {{ var.value.nope }} in bash_command: variable "nope" does not exist in this task's team; create it with 'leoflow variables set KEY VALUE' (or POST /api/v2/variables)`,
    );
    expect(r.logs.some((l) => l.includes("should not run"))).toBe(false);
  });

  test("an unknown param in env fails the try naming env.X and the params that exist", async () => {
    const r = await run("bad_env");
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toBe('template {{ params.nope }} in env.X: no param "nope" (known: limit)');
  });
});

describe("task context leftovers", () => {
  test("an encrypted variable read with leoflow task var get is masked though its key does not look secret", async () => {
    const r = await run("encrypted_cli");
    expect(r.ti.state).toBe("success");
    expect(r.logs).toContain("stdout: ***");
    expect(leaks(r.logs)).toEqual([]);
  });

  test("leoflow task var get works after the token the task started with expired (the renewed one is in the token file)", async () => {
    const r = await run("long_cli", async () => {
      // Past half the token's life: the next heartbeat renews it; the agent writes it to the token file.
      const tokenFile = await waitFor(() => findTokenFile());
      const first = readFileSync(tokenFile, "utf8");
      skewMs = (TTL / 2 + 10) * 1000;
      await waitFor(() => readFileSync(tokenFile, "utf8") !== first);
      skewMs = (TTL + 60) * 1000; // the first token is now expired; the renewed one is not
      writeFileSync(goFile, "");
    });
    skewMs = 0;
    expect(r.logs).toContain("stdout: eu-west");
    expect(r.ti.state).toBe("success");
  });
});

describe("a DAG's python requirements in the agent", () => {
  test("without a venv folder from the executor (docker, kubernetes) they are not installed, and the log says so", async () => {
    const r = await run("py_no_venvs");
    expect(r.ti.state).toBe("success");
    expect(r.logs).toContain(
      "agent: the DAG's requirements are not installed here: only the subprocess executor builds python environments; a container's image provides its packages",
    );
    expect(r.logs).toContain("stdout: system python");
  });

  test("a requirement pip cannot install fails the try with pip's output in its log; the task never runs", async () => {
    const wheels = join(dir, "empty-wheels");
    mkdirSync(wheels);
    const r = await run("py_pip_fails", undefined, { LEOFLOW_PYTHON_VENVS_DIR: join(dir, "venvs"), LEOFLOW_PIP_FIND_LINKS: wheels });
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toBe("pip install of the DAG's requirements failed (exit code 1); pip's output is in the task's log above");
    expect(
      r.logs.some((l) => l.startsWith("agent: pip: ") && l.includes("No matching distribution found for leoflow_not_in_the_folder==1.0")),
    ).toBe(true);
    expect(r.logs.some((l) => l.includes("should not run"))).toBe(false);
    // The agent heartbeat while pip worked (a long build must not look like a lost agent).
    expect(r.ti.last_heartbeat!.getTime()).toBeGreaterThan(r.ti.start_date!.getTime());
  }, 180_000);
});

/** The running try's token file: its path is in the task's environment, which the test cannot see, so look for it. */
function findTokenFile(): string | false {
  const found = readdirSync(agentTmp)
    .map((d) => join(agentTmp, d, "agent-token"))
    .find((f) => existsSync(f));
  return found ?? false;
}

async function waitFor<T>(probe: () => T | false): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = probe();
    if (v !== false) return v;
    await Bun.sleep(50);
  }
  throw new Error("timed out waiting");
}
