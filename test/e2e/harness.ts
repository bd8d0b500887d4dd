/**
 * Starts the compiled binary the way a user does (`dist/leoflow serve …` in a fresh temp dir) and talks to it
 * over HTTP with a real admin token. Used by every e2e test.
 */
import { mkdtempSync, existsSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "../support/chromium";
import { apiCaller, liteServeArgs, loginAsAdmin, servingUrl, spawnCapturing, waitFor, type LeoflowApi } from "../support/leoflow-process";

export { waitFor };

/** The compiled binary under test; LEOFLOW_TEST_BINARY points at another build (e.g. `bun scripts/build.ts --outfile dist/x`). */
export const BINARY = process.env.LEOFLOW_TEST_BINARY
  ? resolve(process.env.LEOFLOW_TEST_BINARY)
  : resolve(import.meta.dir, "../../dist/leoflow");

export interface Leoflow {
  url: string;
  dir: string;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the server printed so far (stdout + stderr). */
  output(): string;
  api: LeoflowApi;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export const ADMIN_PASSWORD = "e2e-admin-password";

/** `leoflow serve` as a user runs Lite in `dir`: the SQLite file, `dags` folder and data dir there, any free port. */
export function liteServeArgv(dir: string): string[] {
  return [BINARY, ...liteServeArgs(dir), "--port", "0"];
}

export async function startLeoflow(
  /** `authNone`: the server runs with `--auth none`, and `api` calls it without a token. */
  opts: { dagsFrom?: string; dir?: string; args?: string[]; env?: Record<string, string>; authNone?: boolean } = {},
): Promise<Leoflow> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run scripts/test (it builds the binary) or bun scripts/build.ts`);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "leoflow-e2e-"));
  const dags = join(dir, "dags");
  if (opts.dagsFrom && !existsSync(dags)) cpSync(opts.dagsFrom, dags, { recursive: true });
  const { proc, output } = spawnCapturing([...liteServeArgv(dir), ...(opts.authNone ? ["--auth", "none"] : []), ...(opts.args ?? [])], {
    cwd: dir,
    env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD, LEOFLOW_SWEEP_INTERVAL: "0.5", ...opts.env },
  });
  const url = await waitFor(
    () => servingUrl(output()),
    20_000,
    () => `server did not start:\n${output()}`,
  );
  const api = opts.authNone ? apiCaller(url) : await loginAsAdmin(url, ADMIN_PASSWORD);
  return {
    url,
    dir,
    proc,
    output,
    api,
    stop: async (signal = "SIGTERM") => {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

/** Waits until the run is success or failed and returns it. */
export async function waitForRun(lf: Leoflow, dagId: string, runId: string, timeoutMs = 60_000): Promise<any> {
  let last: any;
  return waitFor(
    async () => {
      last = (await lf.api("GET", `/api/v2/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}`)).body;
      return last?.state === "success" || last?.state === "failed" ? last : null;
    },
    timeoutMs,
    () => `run ${dagId}/${runId} did not finish: ${JSON.stringify(last)}\n--- server output ---\n${lf.output().slice(-4000)}`,
  );
}

/** The value of an unlabelled series on the server's /metrics (0 when absent). */
export async function metricValue(lf: Leoflow, name: string): Promise<number> {
  const text = await fetch(`${lf.url}/metrics`).then((r) => r.text());
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

/**
 * The web UI tests' set-up: a Lite server over `dir`'s DAGs and Chromium, started side by side, once the server has
 * read `dags` DAGs (its output in the failure when it does not within 30 s).
 */
export async function startServerAndBrowser(dir: string, dags: number, chromium: string | null): Promise<[Leoflow, Browser]> {
  const [lf, browser] = await Promise.all([startLeoflow({ dir }), launchChromium(chromium)]);
  await waitFor(
    async () => (await lf.api("GET", "/api/v2/dags")).body.total_entries === dags,
    30_000,
    () => lf.output(),
  );
  return [lf, browser];
}
