/**
 * Starts the compiled binary the way a user does (`dist/leoflow serve …` in a fresh temp dir) and talks to it
 * over HTTP with a real admin token. Used by every e2e test.
 */
import { mkdtempSync, existsSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const BINARY = resolve(import.meta.dir, "../../dist/leoflow");

export interface Leoflow {
  url: string;
  dir: string;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the server printed so far (stdout + stderr). */
  output(): string;
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

const ADMIN_PASSWORD = "e2e-admin-password";

export async function startLeoflow(opts: { dagsFrom?: string; dir?: string; args?: string[]; env?: Record<string, string> } = {}): Promise<Leoflow> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run scripts/test (it builds the binary) or bun scripts/build.ts`);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "leoflow-e2e-"));
  const dags = join(dir, "dags");
  if (opts.dagsFrom && !existsSync(dags)) cpSync(opts.dagsFrom, dags, { recursive: true });
  const proc = Bun.spawn(
    [BINARY, "serve", "--mode=lite", `--db=sqlite:${join(dir, "leoflow.db")}`, "--dags-folder", dags, "--data-dir", join(dir, "data"), "--port", "0", ...(opts.args ?? [])],
    {
      cwd: dir,
      env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD, LEOFLOW_SWEEP_INTERVAL: "0.5", ...opts.env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = s.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      out += decoder.decode(value, { stream: true });
    }
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  const url = await waitFor(() => out.match(/leoflow is serving url=(\S+)/)?.[1], 20_000, () => `server did not start:\n${out}`);
  let token = "";
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed as any };
  };
  const login = await api("POST", "/auth/token", { username: "admin", password: ADMIN_PASSWORD });
  if (login.status !== 201) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  token = login.body.access_token;
  return {
    url,
    dir,
    proc,
    output: () => out,
    api,
    stop: async (signal = "SIGTERM") => {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

/** Polls `probe` until it returns a truthy value; throws `describe()` after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, describe: () => string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(describe());
    await Bun.sleep(50);
  }
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
