/**
 * Hostile case: only the agent is SIGKILLed (its task lives on in its own process group). Try 1's user
 * process must be stopped before try 2 starts: its ticks stop, and no tick of try 1 lands after try 2's
 * first. (Killing the agent and its task together, as a dead host does, is test/faults/agent-kill.test.ts.)
 */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLeoflow, waitFor, waitForRun } from "../e2e/harness";
import { agentPids, freePort, ti, waitForState, writeDag } from "../faults/helpers";

/**
 * Try 1 would tick for minutes; try 2 ticks a few times and succeeds. Ticks go to the marker file only: a
 * process that wrote to its dead agent's pipe would die of SIGPIPE by itself, and many tasks print nothing.
 */
const TICKER = [
  'echo "pid $LEOFLOW_TRY_NUMBER $$" >> "$MARKERS"',
  'n=$([ "$LEOFLOW_TRY_NUMBER" = 1 ] && echo 1200 || echo 5)',
  'for i in $(seq 1 $n); do echo "tick $LEOFLOW_TRY_NUMBER $i" >> "$MARKERS"; sleep 0.1; done',
].join("; ");

const lines = (dir: string) => (existsSync(join(dir, "markers")) ? readFileSync(join(dir, "markers"), "utf8").trim().split("\n") : []);

/** A process runs unless it is gone or a zombie (which runs nothing). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\S+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return false;
  }
}

test("SIGKILL of the agent alone: its user process is stopped before try 2 starts; tries never overlap", async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-one-try-"));
  writeDag(dir, { dag_id: "one_try", tasks: [{ task_id: "work", operator: "bash", retries: 1, retry_delay: 0, bash_command: TICKER }] });
  const lf = await startLeoflow({
    dir,
    args: ["--port", String(port), "--heartbeat-interval", "1"],
    env: { MARKERS: join(dir, "markers"), LEOFLOW_TASK_ENV_PASSTHROUGH: "MARKERS" },
  });
  let pid1 = 0;
  try {
    expect((await lf.api("POST", "/api/v2/dags/one_try/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    await waitForState(lf, "one_try", "r1", "work", (t) => t.state === "running");
    await waitFor(
      () => lines(dir).includes("tick 1 3"),
      20_000,
      () => `try 1 never ticked: ${lines(dir).join(" | ")}`,
    );
    pid1 = Number(
      lines(dir)
        .find((l) => l.startsWith("pid 1 "))!
        .split(" ")[2],
    );
    const [agent] = await waitFor(
      () => (agentPids(port).length === 1 ? agentPids(port) : null),
      10_000,
      () => `expected one agent for port ${port}`,
    );
    process.kill(agent!, "SIGKILL");

    const run = await waitForRun(lf, "one_try", "r1", 60_000);
    const m = lines(dir);
    const firstOfTry2 = m.indexOf("tick 2 1");
    const lateTicksOfTry1 = m.slice(firstOfTry2).filter((l) => l.startsWith("tick 1 ")).length;
    console.log(
      `ONE-TRY-REPORT | ticks of try 1 after try 2 started: ${lateTicksOfTry1}; try 1 still running after the run: ${running(pid1)}`,
    );
    expect(run.state).toBe("success");
    expect((await ti(lf, "one_try", "r1", "work")).try_number).toBe(2);
    expect(firstOfTry2).toBeGreaterThan(0);
    expect(lateTicksOfTry1).toBe(0);
    expect(running(pid1)).toBe(false);
    expect(lf.output()).toContain("stopped the task's processes its agent left running");
  } finally {
    await lf.stop();
    // When the wall fails, try 1 would tick on for minutes after the test: end it (its own group).
    if (pid1 && running(pid1)) process.kill(-pid1, "SIGKILL");
  }
}, 120_000);
