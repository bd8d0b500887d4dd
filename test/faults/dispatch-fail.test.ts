/**
 * Fault: the executor cannot launch the agent. LEOFLOW_AGENT_BINARY (honoured by the server's subprocess
 * executor) points at a file that does not exist, so each launch fails for real (spawn ENOENT). Launches
 * are retried with doubling backoff on the same try; once the binary appears the task runs (once). If it
 * never appears the task instance is dead-lettered: failed `dispatch_failed: …`, in its log, and as an
 * event on the SSE stream.
 */
import { expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, startLeoflow, waitFor, waitForRun } from "../e2e/harness";
import { duplicated, freePort, logLines, lost, markedTask, markers, report, taskInstances, ti, waitForState, writeDag } from "./helpers";

test("launches that fail twice are retried with backoff on the same try, then run once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-fault-dispatch-"));
  const agentBinary = join(dir, "agent-bin");
  writeDag(dir, { dag_id: "flaky_launch", tasks: [markedTask("work")] });
  const lf = await startLeoflow({
    dir,
    args: ["--port", String(await freePort()), "--dispatch-retries", "5", "--dispatch-retry-base", "0.5"],
    env: { MARKERS: join(dir, "markers"), LEOFLOW_TASK_ENV_PASSTHROUGH: "MARKERS", LEOFLOW_AGENT_BINARY: agentBinary },
  });
  try {
    expect((await lf.api("POST", "/api/v2/dags/flaky_launch/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    const failedTwice = await waitForState(lf, "flaky_launch", "r1", "work", (t) => /^dispatch attempt 2\/5 failed: /.test(t.note ?? ""));
    // Attempt 3 is 1 s away: the note says when, and the task is back to scheduled on try 1.
    expect([failedTwice.state, failedTwice.try_number]).toEqual(["scheduled", 1]);
    expect(failedTwice.note).toMatch(/ENOENT|No such file/i);
    expect(failedTwice.note).toMatch(/; next at \d{4}-\d\d-\d\dT/);
    const fixedAt = Date.now();
    writeFileSync(agentBinary, `#!/bin/sh\nexec "${BINARY}" "$@"\n`);
    chmodSync(agentBinary, 0o755);

    const run = await waitForRun(lf, "flaky_launch", "r1", 30_000);
    const recoverMs = Date.now() - fixedAt;
    expect(run.state).toBe("success");
    const work = await ti(lf, "flaky_launch", "r1", "work");
    expect([work.state, work.try_number]).toEqual(["success", 1]);
    const m = markers(dir);
    const [dups, missing] = [duplicated(m), lost(taskInstances(["r1"], ["work"]), m)];
    report({
      fault: "executor fails dispatch 2x (missing agent binary)",
      runs: 1,
      tasks: 1,
      lost: missing.length,
      duplicated: dups.length,
      recoverMs,
    });
    expect(dups).toEqual([]);
    expect(missing).toEqual([]);
    expect(m).toEqual(["start r1 work 1", "end r1 work 1"]);
    expect((lf.output().match(/dispatch failed; will retry/g) ?? []).length).toBe(2);
    const metrics = await (await fetch(`${lf.url}/metrics`)).text();
    expect(metrics).toContain('leoflow_dispatch_failures_total{outcome="retry"} 2');
  } finally {
    await lf.stop();
  }
}, 90_000);

test("launches that never succeed are dead-lettered: dispatch_failed in the API, the log and the event stream", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-fault-deadletter-"));
  writeDag(dir, { dag_id: "never_launches", tasks: [markedTask("work", { retries: 0 }), markedTask("after", { upstream: ["work"] })] });
  const lf = await startLeoflow({
    dir,
    args: ["--port", String(await freePort()), "--dispatch-retries", "3", "--dispatch-retry-base", "0.2"],
    env: { MARKERS: join(dir, "markers"), LEOFLOW_TASK_ENV_PASSTHROUGH: "MARKERS", LEOFLOW_AGENT_BINARY: join(dir, "missing-agent") },
  });
  const token = (await lf.api("POST", "/auth/token", { username: "admin", password: "e2e-admin-password" })).body.access_token;
  const stream = await fetch(`${lf.url}/api/v2/leoflow/events?dag_id=never_launches`, { headers: { authorization: `Bearer ${token}` } });
  expect(stream.status).toBe(200);
  expect(stream.headers.get("content-type")).toContain("text/event-stream");
  const reader = stream.body!.getReader();
  let sse = "";
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      sse += new TextDecoder().decode(value);
    }
  })();
  try {
    const started = Date.now();
    expect((await lf.api("POST", "/api/v2/dags/never_launches/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    const run = await waitForRun(lf, "never_launches", "r1", 30_000);
    const settledMs = Date.now() - started;
    expect([run.state, run.note]).toEqual(["failed", "task(s) failed: work"]);
    // Nothing may finish here; what must not be lost is the failure itself: each task instance ends in the
    // state that says why (none left queued or scheduled), and nothing executed, let alone twice.
    const outcome: Record<string, string> = { work: "failed", after: "upstream_failed" };
    const states = Object.fromEntries(
      await Promise.all(Object.keys(outcome).map(async (t) => [t, (await ti(lf, "never_launches", "r1", t)).state])),
    );
    const m = markers(dir);
    const [dups, missing] = [duplicated(m), Object.keys(outcome).filter((t) => states[t] !== outcome[t])];
    report({
      fault: "executor fails every dispatch (dead-letter)",
      runs: 1,
      tasks: 2,
      lost: missing.length,
      duplicated: dups.length,
      recoverMs: settledMs,
    });
    expect(states).toEqual(outcome);
    expect(m).toEqual([]);
    const work = await ti(lf, "never_launches", "r1", "work");
    expect([work.state, work.try_number]).toEqual(["failed", 1]);
    expect(work.note).toStartWith("dispatch_failed: ");
    const log = await logLines(lf, "never_launches", "r1", "work", 1);
    expect(log).toHaveLength(1);
    expect(log[0]).toStartWith("leoflow: dispatch_failed: ");
    expect(log[0]).toEndWith("(after 3 launch attempts)");
    expect(lf.output()).toContain("dispatch failed on every attempt; task instance dead-lettered");

    await waitFor(
      () => sse.includes("event: dag_run.finished"),
      10_000,
      () => `no finished event in:\n${sse}`,
    );
    const events = [...sse.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
    const seen = events.map((e) => (e.task_id ? `${e.type} ${e.task_id} ${e.state ?? ""}`.trim() : `${e.type} ${e.state}`));
    expect(seen[0]).toBe("dag_run.created queued");
    expect(seen).toContain("task_instance.dead_lettered work");
    expect(seen.filter((s) => s === "task_instance.state_changed work scheduled").length).toBe(3); // first schedule + 2 deferrals
    expect(seen.at(-1)).toBe("dag_run.finished failed");
    const dead = events.find((e) => e.type === "task_instance.dead_lettered");
    expect([dead.attempts, dead.try_number, dead.run_id]).toEqual([3, 1, "r1"]);
  } finally {
    await reader.cancel().catch(() => {});
    await pump.catch(() => {});
    await lf.stop();
  }
}, 90_000);
