/**
 * Hostile case: a task prints its environment (and its agent's, read from /proc) into its log, which any
 * viewer can read. The server runs with its JWT secret, admin password and database URL in its environment
 * plus an unrelated secret; none of them may reach the task. What it must see: PATH, HOME, its own LEOFLOW_*
 * values, its DAG's env, and the one name the operator passes through.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, startLeoflow, waitForRun } from "../e2e/harness";
import { logLines, writeDag } from "../faults/helpers";
import { describePg } from "../support/postgres";
import { ProCluster } from "../support/pro-cluster";

const SECRETS = {
  LEOFLOW_JWT_SECRET: "jwt-secret-must-stay-in-the-server-0123456789",
  // The harness sets LEOFLOW_ADMIN_PASSWORD=e2e-admin-password.
  LEOFLOW_ADMIN_PASSWORD: "e2e-admin-password",
  SOME_SERVER_SECRET: "some-server-secret-value-42",
  PGPASSWORD: "pg-password-of-the-server",
};

/**
 * The task's log: no secret value anywhere; its own LEOFLOW_* values, PATH, HOME, the DAG's env and the
 * passthrough name present; its agent's environment (/proc/PPID/environ) free of the server's names too.
 */
async function expectAllowlisted(lines: string[], secretValues: string[], mode: string): Promise<void> {
  const text = lines.join("\n");
  const leaked = secretValues.filter((v) => text.includes(v));
  console.log(
    `ENV-LEAK-REPORT | ${mode} | secrets visible in task env: ${leaked.length} of ${secretValues.length} (${leaked.join(", ") || "none"})`,
  );
  expect(leaked).toEqual([]);
  const task = new Map(lines.filter((l) => l.startsWith("task: ")).map((l) => l.slice(6).split(/=(.*)/s).slice(0, 2) as [string, string]));
  for (const name of [
    "PATH",
    "HOME",
    "LEOFLOW_DAG_ID",
    "LEOFLOW_RUN_ID",
    "LEOFLOW_TASK_ID",
    "LEOFLOW_TRY_NUMBER",
    "LEOFLOW_AGENT_TOKEN",
    "LEOFLOW_SERVER",
    "LEOFLOW_RETURN_VALUE_PATH",
  ])
    expect(task.has(name)).toBe(true);
  expect(task.get("LEOFLOW_DAG_ID")).toBe("env_dump");
  expect(task.get("FROM_THE_DAG")).toBe("dag-value");
  expect(task.get("OPERATOR_PASSES_THIS")).toBe("passed-through");
  // Not a single LEOFLOW_* name of the server's own (the harness sets LEOFLOW_SWEEP_INTERVAL too).
  const own =
    /^LEOFLOW_(DAG_ID|RUN_ID|TASK_ID|TRY_NUMBER|LOGICAL_DATE|CONF|PARAMS|AGENT_TOKEN|SERVER|RETURN_VALUE_PATH|MASK_FILE|AGENT_TOKEN_FILE|XCOM_.*)$/;
  expect([...task.keys()].filter((k) => k.startsWith("LEOFLOW_") && !own.test(k))).toEqual([]);
  // The agent itself started from the allowlist too: nothing of the server's in /proc/PPID/environ.
  const agent = lines.filter((l) => l.startsWith("agent: ")).map((l) => l.slice(7).split("=")[0]!);
  // (A warm agent gets each try's token over its stdin pipe, so its environ holds no token at all.)
  expect(agent).toContain("PATH");
  expect(
    agent.filter((k) =>
      ["LEOFLOW_JWT_SECRET", "LEOFLOW_ADMIN_PASSWORD", "LEOFLOW_DB", "SOME_SERVER_SECRET", "PGPASSWORD", "LEOFLOW_SWEEP_INTERVAL"].includes(
        k,
      ),
    ),
  ).toEqual([]);
}

const DUMP_DAG = {
  dag_id: "env_dump",
  default_args: { env: { FROM_THE_DAG: "dag-value" } },
  tasks: [
    {
      task_id: "dump",
      operator: "bash",
      // Its own env, then its agent's (a same-user process can read its parent's /proc/PID/environ).
      bash_command: 'env | sed "s/^/task: /"; tr "\\0" "\\n" < /proc/$PPID/environ | sed "s/^/agent: /"',
    },
  ],
};
const PASSTHROUGH_ENV = { OPERATOR_PASSES_THIS: "passed-through", LEOFLOW_TASK_ENV_PASSTHROUGH: "OPERATOR_PASSES_*" };

test("a task sees an allowlisted environment: none of the server's secrets, its own LEOFLOW_*, the passthrough name", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-env-"));
  const db = `sqlite:${join(dir, "leoflow.db")}`;
  writeDag(dir, DUMP_DAG);
  const lf = await startLeoflow({
    dir,
    env: { ...SECRETS, LEOFLOW_DB: db, ...PASSTHROUGH_ENV },
  });
  try {
    expect((await lf.api("POST", "/api/v2/dags/env_dump/dagRuns", { dag_run_id: "e1", logical_date: null })).status).toBe(200);
    expect((await waitForRun(lf, "env_dump", "e1")).state).toBe("success");
    await expectAllowlisted(await logLines(lf, "env_dump", "e1", "dump", 1), [...Object.values(SECRETS), db], "Lite");
  } finally {
    await lf.stop();
  }
}, 60_000);

describePg("Pro, two replicas", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-env-pro-"));
  const cluster = new ProCluster({ dir, names: ["r1", "r2"], env: { ...SECRETS, ...PASSTHROUGH_ENV } });
  beforeAll(async () => {
    writeDag(dir, DUMP_DAG);
    await cluster.start(join(dir, "dags"));
  }, 60_000);
  afterAll(() => cluster.stop());

  test("a task triggered through a follower sees the same allowlisted environment", async () => {
    const follower = cluster.replicas[1]!;
    expect((await follower.api("POST", "/api/v2/dags/env_dump/dagRuns", { dag_run_id: "p1", logical_date: null })).status).toBe(200);
    expect((await waitForRun(follower, "env_dump", "p1")).state).toBe("success");
    await expectAllowlisted(await logLines(follower, "env_dump", "p1", "dump", 1), [...Object.values(SECRETS), cluster.db], "Pro");
  }, 60_000);
});

test("naming a server variable in --task-env-passthrough refuses to start, saying why", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-env-refused-"));
  const proc = Bun.spawn(
    [BINARY, "serve", "--data-dir", join(dir, "data"), "--port", "0", "--task-env-passthrough", "LEOFLOW_JWT_SECRET"],
    {
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  expect(code).not.toBe(0);
  expect(err).toContain("--task-env-passthrough: LEOFLOW_JWT_SECRET is a variable the server reads for itself");
}, 30_000);
