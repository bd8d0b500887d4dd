/**
 * Fault: SIGSTOP an agent and its task (a frozen VM) past a short --agent-lost-after. Heartbeats stop, the
 * agent_lost reaper fails the try with its reason and stops it (SIGTERM + SIGCONT, as systemd does, so a
 * frozen process acts on it at once), and the retry runs as try 2. Whatever the old agent does after it is
 * resumed, its late calls are refused and change nothing.
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

test("SIGSTOP an agent past the heartbeat threshold: agent_lost, retried, success; the resumed agent changes nothing", async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "leoflow-fault-agent-stop-"));
  writeDag(dir, { dag_id: "agent_freezes", tasks: [markedTask("work", { lines: 4, pause: 0.5, retries: 1 })] });
  const args = ["--port", String(port), "--heartbeat-interval", "1", "--agent-lost-after", "3"];
  const lf = await startLeoflow({ dir, args, env: { MARKERS: join(dir, "markers"), LEOFLOW_TASK_ENV_PASSTHROUGH: "MARKERS" } });
  let frozen: number | undefined;
  try {
    expect((await lf.api("POST", "/api/v2/dags/agent_freezes/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    await waitForState(lf, "agent_freezes", "r1", "work", (t) => t.state === "running");
    [frozen] = await waitFor(
      () => (agentPids(port).length === 1 ? agentPids(port) : null),
      10_000,
      () => `expected one agent for port ${port}`,
    );
    const stoppedAt = Date.now();
    signalAgentTree(frozen!, "SIGSTOP");

    // Reaped and retried: the task's note on try 1 is gone with the reset, the server log keeps the reason.
    await waitFor(
      () => lf.output().includes("reaped a task instance: agent_lost"),
      30_000,
      () => `not reaped\n${lf.output().slice(-3000)}`,
    );
    const run = await waitForRun(lf, "agent_freezes", "r1", 60_000);
    const recoverMs = Date.now() - stoppedAt;
    expect(run.state).toBe("success");
    const work = await ti(lf, "agent_freezes", "r1", "work");
    expect([work.state, work.try_number]).toEqual(["success", 2]);
    expect(lf.output()).toMatch(
      /reaped a task instance: agent_lost reason=agent_lost dag_id=agent_freezes run_id=r1 task_id=work try_number=1 note="agent_lost: no heartbeat since/,
    );
    const metrics = await (await fetch(`${lf.url}/metrics`)).text();
    expect(metrics).toContain('leoflow_reaped_total{reason="agent_lost"} 1');

    // Resume the frozen try: its heartbeat is refused, it stops, and its report cannot undo try 2.
    signalAgentTree(frozen!, "SIGCONT");
    await waitFor(
      () => !agentPids(port).includes(frozen!),
      40_000,
      () => "the resumed agent did not exit",
    );
    frozen = undefined;
    const after = await ti(lf, "agent_freezes", "r1", "work");
    expect([after.state, after.try_number]).toEqual(["success", 2]);
    const m = markers(dir);
    const [dups, missing] = [duplicated(m), lost(taskInstances(["r1"], ["work"]), m)];
    report({
      fault: "SIGSTOP agent past --agent-lost-after 3",
      runs: 1,
      tasks: 1,
      lost: missing.length,
      duplicated: dups.length,
      recoverMs,
    });
    expect(dups).toEqual([]);
    expect(missing).toEqual([]);
    expect(m.filter((l) => l.startsWith("start"))).toEqual(["start r1 work 1", "start r1 work 2"]);
    expect(m).toContain("end r1 work 2");
  } finally {
    if (frozen) signalAgentTree(frozen, "SIGKILL");
    await lf.stop();
  }
}, 120_000);
