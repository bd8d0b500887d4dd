/**
 * Fault: SIGKILL an agent (and its task's process group, as if the host died) mid-task. The executor sees
 * the agent die without a report and fails the try; the task's retry runs as try 2 and the run succeeds.
 */
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLeoflow, waitFor, waitForRun } from "../e2e/harness";
import {
  agentPids,
  duplicated,
  freePort,
  logLines,
  lost,
  markedTask,
  markers,
  report,
  signalAgentTree,
  taskInstances,
  ti,
  waitForState,
  writeDag,
} from "./helpers";

test("SIGKILL an agent mid-task: the try fails with the reason, the retry succeeds, nothing runs twice", async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "leoflow-fault-agent-kill-"));
  writeDag(dir, {
    dag_id: "agent_dies",
    tasks: [markedTask("work", { lines: 6, pause: 0.5, retries: 1 }), markedTask("after", { upstream: ["work"] })],
  });
  const lf = await startLeoflow({
    dir,
    args: ["--port", String(port), "--heartbeat-interval", "1"],
    env: { MARKERS: join(dir, "markers"), LEOFLOW_TASK_ENV_PASSTHROUGH: "MARKERS" },
  });
  try {
    expect((await lf.api("POST", "/api/v2/dags/agent_dies/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    await waitForState(lf, "agent_dies", "r1", "work", (t) => t.state === "running");
    await waitFor(
      async () => (await logLines(lf, "agent_dies", "r1", "work", 1)).some((l) => l === "line 1"),
      20_000,
      () => "no log line from try 1",
    );
    const [agent] = await waitFor(
      () => (agentPids(port).length === 1 ? agentPids(port) : null),
      10_000,
      () => `expected one agent for port ${port}`,
    );
    const killedAt = Date.now();
    signalAgentTree(agent!, "SIGKILL");

    const run = await waitForRun(lf, "agent_dies", "r1", 60_000);
    const recoverMs = Date.now() - killedAt;
    expect(run.state).toBe("success");
    const work = await ti(lf, "agent_dies", "r1", "work");
    expect([work.state, work.try_number]).toEqual(["success", 2]);
    expect(lf.output()).toContain("task failed: agent was killed by SIGKILL before reporting a final state");
    const m = markers(dir);
    const [dups, missing] = [duplicated(m), lost(taskInstances(["r1"], ["work", "after"]), m)];
    report({ fault: "SIGKILL agent (and its task) mid-task", runs: 1, tasks: 2, lost: missing.length, duplicated: dups.length, recoverMs });
    expect(dups).toEqual([]);
    expect(missing).toEqual([]);
    expect(m).toEqual(["start r1 work 1", "start r1 work 2", "end r1 work 2", "start r1 after 1", "end r1 after 1"]);
    expect((await logLines(lf, "agent_dies", "r1", "work", 2)).filter((l) => l.startsWith("line "))).toEqual(
      [1, 2, 3, 4, 5, 6].map((i) => `line ${i}`),
    );
  } finally {
    await lf.stop();
  }
}, 120_000);
