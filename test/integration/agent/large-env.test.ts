/**
 * Values too large for a process's environment (Linux: 128 KiB a variable) reach the task as files. Found by
 * hand: an upstream's 140 KB return value (the server takes up to 1 MiB) or a 200 KB conf made every
 * downstream task fail with "cannot start bash: E2BIG", the ones that never read the value too, and each spent
 * its retries on it. The agent against the real RPC service and a SQLite store; what the store holds is asserted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDagSpec } from "../../../src/domain/schemas";
import { openStore, type Store } from "../../../src/store";
import { serveAgentRpc } from "../../support/agent-rpc-server";
import { AgentTokens } from "../../../src/auth/agent-token";
import { runAgent } from "../../../src/agent";
import { buildDagRun } from "../../../src/scheduler";
import { silentLogger } from "../../../src/observability/logger";

const SECRET = "integration-test-secret-32-bytes";
const dir = mkdtempSync(join(tmpdir(), "leoflow-large-env-"));
const dagFile = join(dir, "dag.json");
const BIG = "x".repeat(300_000);
const rawDag = {
  dag_id: "large_env",
  tasks: [
    { task_id: "produce", operator: "bash", bash_command: "true" },
    {
      task_id: "consume",
      operator: "bash",
      upstream: ["produce"],
      bash_command:
        'echo "env: $(printenv LEOFLOW_XCOM_PRODUCE || echo unset)"; echo "file bytes: $(wc -c < "$LEOFLOW_XCOM_PRODUCE_FILE")"',
    },
    { task_id: "unrelated", operator: "bash", upstream: ["produce"], bash_command: "echo I do not read it" },
    {
      task_id: "py_conf",
      operator: "python",
      python_code: "import json, os; print(len(json.load(open(os.environ['LEOFLOW_CONF_FILE']))['blob']))",
    },
  ],
};

let store: Store;
let stopRpc: (() => void) | undefined;
let url: string;
const tokens = new AgentTokens(SECRET);
const now = () => new Date();

beforeAll(async () => {
  writeFileSync(dagFile, JSON.stringify(rawDag));
  store = openStore("sqlite::memory:");
  await store.migrate();
  const dag = await store.upsertDag("default", { spec: parseDagSpec(rawDag), fileloc: dagFile, pausedOnCreate: false, now: now() });
  await store.createDagRun(
    buildDagRun(dag, { run_type: "manual", run_id: "r1", logical_date: null, conf: { blob: "c".repeat(200_000) } }, now()),
  );
  // produce's return value, as its try would have stored it (300 KB: under --xcom-max-bytes, over an env variable).
  await store.setXCom(
    { team: "default", dag_id: "large_env", run_id: "r1", task_id: "produce", map_index: -1, key: "return_value" },
    BIG,
    now(),
  );
  ({ url, stop: stopRpc } = serveAgentRpc(store, tokens));
});

afterAll(async () => {
  stopRpc?.();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(taskId: string) {
  const t = (await store.getTaskInstance("default", "large_env", "r1", taskId))!;
  await store.applyTransitions([{ id: t.id, from: ["none"], to: "scheduled" }], now());
  await store.applyTransitions([{ id: t.id, from: ["scheduled"], to: "queued", patch: { queued_at: now() } }], now());
  const token = await tokens.issue({ tiId: t.id, tryNumber: t.try_number, dagId: t.dag_id, runId: t.run_id, taskId: t.task_id }, 300);
  await runAgent({ server: url, token, logger: silentLogger, hostname: "it-host" });
  const ti = (await store.getTaskInstance("default", "large_env", "r1", taskId))!;
  return { ti, logs: (await store.readLogs(t.id, 1)).map((l) => `${l.stream}: ${l.line}`) };
}

describe("values too large for an environment", () => {
  test("an upstream's 300 KB return value arrives as $LEOFLOW_XCOM_<TASK>_FILE, and the log says why", async () => {
    const r = await run("consume");
    expect(r.ti.state).toBe("success");
    expect(r.logs).toContain("stdout: env: unset");
    expect(r.logs).toContain(`stdout: file bytes: ${JSON.stringify(BIG).length}`);
    expect(r.logs.find((l) => l.includes("$LEOFLOW_XCOM_PRODUCE is"))).toMatch(
      /^agent: \$LEOFLOW_XCOM_PRODUCE is 300,002 bytes, more than a process's environment may hold \(Linux: 128 KiB a variable, 2 MiB in all\): it is in the file named by \$LEOFLOW_XCOM_PRODUCE_FILE instead \(.+\/env\/LEOFLOW_XCOM_PRODUCE\)$/,
    );
  });

  test("a task that does not read the large values starts as any other", async () => {
    const r = await run("unrelated");
    expect(r.ti.state).toBe("success");
    expect(r.logs).toContain("stdout: I do not read it");
  });

  test("a 200 KB conf arrives as $LEOFLOW_CONF_FILE (python reads it)", async () => {
    const r = await run("py_conf");
    expect(r.ti.state).toBe("success");
    expect(r.logs).toContain("stdout: 200000");
  });
});
