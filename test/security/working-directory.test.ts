/**
 * Hostile case: the folder a leoflow command runs in holds a `.env` and a `bunfig.toml` (a project checkout, or a
 * data dir a task could write to). A standalone Bun executable loads both by default; ours loads neither: no
 * setting comes from the folder and no `preload` script runs, for the CLI as for the server.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, startLeoflow } from "../e2e/harness";

test("a .env or bunfig.toml in the working directory is not read: no preload runs, auth stays on", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-cwd-"));
  mkdirSync(join(dir, "dags"));
  const marker = join(dir, "PRELOADED");
  writeFileSync(join(dir, "preload.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
  writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./preload.ts"]\n');
  writeFileSync(join(dir, ".env"), "LEOFLOW_AUTH=none\n");

  const version = Bun.spawnSync([BINARY, "version"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  expect(version.exitCode).toBe(0);
  expect(version.stdout.toString()).toContain("leoflow");
  expect(existsSync(marker)).toBe(false);

  const lf = await startLeoflow({ dir });
  try {
    expect(existsSync(marker)).toBe(false);
    // The .env asked for no authentication; the server still wants a token.
    expect((await fetch(`${lf.url}/api/v2/dags`)).status).toBe(401);
    expect((await lf.api("GET", "/api/v2/dags")).status).toBe(200);
  } finally {
    await lf.stop();
  }
}, 30_000);
