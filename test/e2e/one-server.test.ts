/**
 * One Lite server per SQLite database. Found by hand: a second `leoflow serve` in the same folder ran a second
 * scheduler beside the first (every callback fired twice), and two started together failed with "database is
 * locked" or EEXIST on the secrets key. Now the second exits 1 naming the first, which keeps serving; once the
 * first stops, the same command starts.
 */
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnCapturing } from "../support/leoflow-process";
import { ADMIN_PASSWORD, liteServeArgv, startLeoflow } from "./harness";

test("a second server on the same SQLite database exits 1 naming the first; the first keeps serving", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-one-server-"));
  mkdirSync(join(dir, "dags"));
  const first = await startLeoflow({ dir });
  try {
    const env = { ...process.env, LEOFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD };
    const second = spawnCapturing(liteServeArgv(dir), { cwd: dir, env });
    expect(await second.proc.exited).toBe(1);
    expect(second.output()).toContain(`is in use by the leoflow server with pid ${first.proc.pid} on `);
    expect(second.output()).toContain("one server per SQLite database: stop that one first, or give this one its own --db (or --data-dir)");
    expect((await first.api("GET", "/api/v2/dags")).status).toBe(200);
  } finally {
    expect(await first.stop()).toBe(0);
  }
  const again = await startLeoflow({ dir });
  expect((await again.api("GET", "/api/v2/dags")).status).toBe(200);
  await again.stop();
}, 60_000);
