/**
 * A first start without LEOFLOW_ADMIN_PASSWORD generates the admin's password and prints it once. A script that
 * waits for /health and then reads the password from the output must find it there: /health answers only once it
 * is printed (a restart, whose admin exists, answers /health while the rest of the server still loads).
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HEALTH_PATH } from "../../src/api/health";
import { loginAsAdmin, spawnCapturing } from "../support/leoflow-process";
import { liteServeArgv } from "./harness";

/** A port nothing listens on right now. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** Polls /health every few ms until it first answers 200 (connection refused until the server binds). */
async function firstHealthy(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await fetch(url + HEALTH_PATH)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return;
    await Bun.sleep(2);
  }
  throw new Error(`no 200 from ${HEALTH_PATH} within ${timeoutMs} ms`);
}

describe("e2e: a first start's generated admin password", () => {
  test("is printed before /health first answers, and logs in", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-e2e-"));
    mkdirSync(join(dir, "dags"));
    const port = freePort();
    const argv = liteServeArgv(dir).map((a, i, all) => (all[i - 1] === "--port" ? String(port) : a));
    const env = { ...process.env, LEOFLOW_ADMIN_PASSWORD: undefined };
    const { proc, output } = spawnCapturing(argv, { cwd: dir, env });
    try {
      const url = `http://127.0.0.1:${port}`;
      await firstHealthy(url, 20_000);
      // The printed bytes were in the pipe before the answer was sent; a moment for this process to read them
      // (without the hold the password comes after the argon2 hash, tens of ms after the first 200).
      await Bun.sleep(20);
      const password = output().match(/password: (\S+)/)?.[1];
      expect(password, `no password printed by the first 200 of ${HEALTH_PATH}:\n${output()}`).toBeDefined();
      const api = await loginAsAdmin(url, password!);
      expect((await api("GET", "/api/v2/dags")).status).toBe(200);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
