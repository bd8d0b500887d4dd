/**
 * Warm agents (--agent-pool) on the compiled binary: several tries run in one started agent, and each try's
 * user process sees exactly what a cold agent's sees (environment names, cwd, open descriptors), never the
 * previous try's values; a task stopped by its timeout leaves nothing running and its agent takes the next
 * try; a killed idle agent is replaced. The fault suite (test/faults) runs the kill and reaper cases on the
 * pool too, as it is the default.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLeoflow, waitFor, waitForRun, type Leoflow } from "../e2e/harness";
import { freePort, logLines, ti, writeDag } from "../faults/helpers";

// What a task can see of where it runs: its agent (bash's parent), cwd, variable names, open descriptors.
const PROBE = [
  'echo "agent $PPID"',
  'echo "cwd $(pwd)"',
  "echo \"names $(env | cut -d= -f1 | grep -v '^_$' | sort | tr '\\n' ' ')\"",
  "echo \"fds $(ls /proc/self/fd | tr '\\n' ' ')\"",
  'echo "only_t1 $(printenv ONLY_T1 || echo unset)"',
  'echo "token $LEOFLOW_AGENT_TOKEN"',
].join("; ");

const probeDag = {
  dag_id: "probe",
  tasks: [
    { task_id: "t1", operator: "bash", bash_command: PROBE, env: { ONLY_T1: "set-by-t1" } },
    { task_id: "t2", operator: "bash", upstream: ["t1"], bash_command: PROBE },
    { task_id: "t3", operator: "bash", upstream: ["t2"], bash_command: PROBE },
  ],
};

const servers: Leoflow[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function serve(pool: number, dags: object[]): Promise<{ lf: Leoflow; port: number }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `leoflow-agent-pool-${pool}-`));
  dirs.push(dir);
  for (const d of dags) writeDag(dir, d);
  const lf = await startLeoflow({ dir, args: ["--port", String(port), "--agent-pool", String(pool), "--heartbeat-interval", "1"] });
  servers.push(lf);
  return { lf, port };
}

/** Idle and busy warm agents of the server on `port`. */
function warmAgents(port: number): number[] {
  const r = Bun.spawnSync(["pgrep", "-f", ` agent --warm --server http://127.0.0.1:${port}$`]);
  return r.stdout.toString().trim().split("\n").filter(Boolean).map(Number);
}

async function probeRun(lf: Leoflow, runId: string): Promise<Record<string, Record<string, string>>> {
  expect((await lf.api("POST", "/api/v2/dags/probe/dagRuns", { dag_run_id: runId, logical_date: null })).status).toBe(200);
  expect((await waitForRun(lf, "probe", runId)).state).toBe("success");
  const seen: Record<string, Record<string, string>> = {};
  for (const t of ["t1", "t2", "t3"]) {
    const lines = await logLines(lf, "probe", runId, t, 1);
    seen[t] = Object.fromEntries(
      ["agent", "cwd", "names", "fds", "only_t1", "token"].map((k) => [
        k,
        lines.find((l) => l.startsWith(`${k} `))?.slice(k.length + 1) ?? "",
      ]),
    );
  }
  return seen;
}

test("one warm agent runs a chain of tries; each sees what a cold agent's task sees and nothing of the try before", async () => {
  const warm = await serve(1, [probeDag]);
  const cold = await serve(0, [probeDag]);
  const pool = await waitFor(
    () => (warmAgents(warm.port).length === 1 ? warmAgents(warm.port) : null),
    20_000,
    () => `expected one warm agent for port ${warm.port}`,
  );
  expect(warmAgents(cold.port)).toEqual([]);
  const [w, c] = await Promise.all([probeRun(warm.lf, "r1"), probeRun(cold.lf, "r1")]);

  // Reused: every try ran under the pool's one agent, which is still there.
  expect([w.t1?.agent, w.t2?.agent, w.t3?.agent]).toEqual(pool.map(String).concat(pool.map(String), pool.map(String)));
  expect(warmAgents(warm.port)).toEqual(pool);
  // Cold: an agent per try.
  expect(new Set([c.t1?.agent, c.t2?.agent, c.t3?.agent]).size).toBe(3);
  for (const t of ["t1", "t2", "t3"]) {
    expect(w[t]?.names).toBe(c[t]?.names ?? "");
    expect(w[t]?.names).toContain("LEOFLOW_AGENT_TOKEN");
    expect(w[t]?.names).not.toContain("LEOFLOW_AGENT_CONTROL");
    expect(w[t]?.fds).toBe("0 1 2 3 "); // stdin (/dev/null), the two log pipes, and ls's own listing
    expect(w[t]?.fds).toBe(c[t]?.fds ?? "");
    expect(w[t]?.cwd).toBe(c[t]?.cwd?.replace(cold.lf.dir, warm.lf.dir) ?? "");
  }
  expect([w.t1?.only_t1, w.t2?.only_t1, w.t3?.only_t1]).toEqual(["set-by-t1", "unset", "unset"]);
  expect(new Set([w.t1?.token, w.t2?.token, w.t3?.token]).size).toBe(3);
}, 120_000);

test("a timed-out task's processes are stopped and its warm agent takes the next try", async () => {
  const { lf, port } = await serve(1, [
    {
      dag_id: "slow",
      tasks: [
        { task_id: "hang", operator: "bash", execution_timeout: 1, bash_command: 'echo "agent $PPID"; sleep 317 & sleep 318' },
        { task_id: "next", operator: "bash", upstream: ["hang"], trigger_rule: "all_done", bash_command: 'echo "agent $PPID"' },
      ],
    },
  ]);
  const [agent] = await waitFor(
    () => (warmAgents(port).length === 1 ? warmAgents(port) : null),
    20_000,
    () => "no warm agent",
  );
  expect((await lf.api("POST", "/api/v2/dags/slow/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
  await waitForRun(lf, "slow", "r1"); // success: its leaf runs on all_done
  expect((await ti(lf, "slow", "r1", "hang")).state).toBe("failed");
  expect(await logLines(lf, "slow", "r1", "hang", 1)).toContain("stopping the task: execution_timeout: task ran longer than 1s");
  expect(Bun.spawnSync(["pgrep", "-f", "sleep 31[78]"]).stdout.toString().trim()).toBe("");
  expect((await ti(lf, "slow", "r1", "next")).state).toBe("success");
  expect(await logLines(lf, "slow", "r1", "next", 1)).toContain(`agent ${agent}`);
}, 60_000);

test("a killed idle warm agent is replaced and the next task runs on its replacement", async () => {
  const { lf, port } = await serve(2, [{ dag_id: "one", tasks: [{ task_id: "t", operator: "bash", bash_command: 'echo "agent $PPID"' }] }]);
  const before = await waitFor(
    () => (warmAgents(port).length === 2 ? warmAgents(port) : null),
    20_000,
    () => "expected two warm agents",
  );
  const [killed] = before;
  process.kill(killed ?? 0, "SIGKILL");
  const after = await waitFor(
    () => {
      const now = warmAgents(port);
      return now.length === 2 && !now.includes(killed ?? 0) ? now : null;
    },
    20_000,
    () => `the killed agent was not replaced: ${warmAgents(port)}`,
  );
  expect(after).toContain(before[1] ?? 0);
  expect((await lf.api("POST", "/api/v2/dags/one/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
  expect((await waitForRun(lf, "one", "r1")).state).toBe("success");
  const line = (await logLines(lf, "one", "r1", "t", 1)).find((l) => l.startsWith("agent "));
  expect(after.map((p) => `agent ${p}`)).toContain(line ?? "");
}, 60_000);
