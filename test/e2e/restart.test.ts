/**
 * Stopping and restarting the server mid-run: SIGTERM lets the running task finish; SIGKILL leaves the
 * agent retrying until the server is back. Either way the run completes and no task runs twice.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve, join } from "node:path";
import { liteServeArgv, startLeoflow, waitFor, waitForRun, type Leoflow } from "./harness";
import { spawnCapturing } from "../support/leoflow-process";

const FIXTURES = resolve(import.meta.dir, "../fixtures/restart");

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

async function runningSlow(lf: Leoflow, runId: string) {
  await waitFor(
    async () => (await lf.api("GET", `/api/v2/dags/slow_then_fast/dagRuns/${runId}/taskInstances/slow`)).body.state === "running",
    20_000,
    () => "slow never started running",
  );
}

function markers(dir: string): string[] {
  return readFileSync(join(dir, "markers"), "utf8").trim().split("\n");
}

describe("restart", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    test(`${signal} mid-task, then restart: the run completes and nothing runs twice`, async () => {
      const port = String(await freePort());
      const dir = mkdtempSync(join(tmpdir(), "leoflow-restart-"));
      const env = { MARKERS: join(dir, "markers"), LEOFLOW_TASK_ENV_PASSTHROUGH: "MARKERS" };
      let lf = await startLeoflow({ dir, dagsFrom: FIXTURES, args: ["--port", port], env });
      expect((await lf.api("POST", "/api/v2/dags/slow_then_fast/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
      await runningSlow(lf, "r1");
      const code = await lf.stop(signal);
      if (signal === "SIGTERM") {
        expect(code).toBe(0);
        expect(lf.output()).toContain("letting running tasks finish");
      }
      lf = await startLeoflow({ dir, args: ["--port", port], env });
      try {
        const run = await waitForRun(lf, "slow_then_fast", "r1", 60_000);
        expect(run.state).toBe("success");
        const slow = (await lf.api("GET", "/api/v2/dags/slow_then_fast/dagRuns/r1/taskInstances/slow")).body;
        expect(slow.try_number).toBe(1);
        expect(slow.state).toBe("success");
        expect(markers(dir)).toEqual(["slow r1", "after r1"]);
      } finally {
        await lf.stop();
      }
    }, 90_000);
  }

  test("SIGTERM while the server starts: it finishes starting, then shuts down cleanly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-e2e-"));
    mkdirSync(join(dir, "dags"));
    const { proc, output } = spawnCapturing(liteServeArgv(dir), {
      cwd: dir,
      env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: "e2e-admin-password" },
    });
    // The first start's first line comes from inside the start (a key generated before migrations): mid-start.
    await waitFor(
      () => output().includes("generated a secrets key"),
      20_000,
      () => `no start-up line:\n${output()}`,
    );
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(proc.signalCode).toBeNull();
    const out = output();
    expect(out).toContain("received SIGTERM");
    // It started (so a stop never leaves a half-migrated store behind), then stopped the usual way.
    expect(out.indexOf("leoflow is serving")).toBeGreaterThan(-1);
    expect(out.indexOf("leoflow is serving")).toBeLessThan(out.lastIndexOf("stopped"));
  }, 30_000);
});
