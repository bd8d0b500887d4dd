/**
 * Running the compiled `leoflow` binary and calling its HTTP API as the admin: the pieces shared by the e2e
 * harness (test/e2e/harness.ts) and the bench (scripts/benchmarks/lib/leoflow.ts). Each of those keeps its
 * own flags, time limits and messages; this module imports nothing from tests.
 */
import { join } from "node:path";

/**
 * `leoflow serve` as a user runs Lite in `dir`, after the binary: the SQLite file and data dir there, the DAGs
 * from `dagsFolder` (default: `dir`/dags). Callers add the port and any other flags.
 */
export function liteServeArgs(dir: string, dagsFolder = join(dir, "dags")): string[] {
  return ["serve", "--mode=lite", `--db=sqlite:${join(dir, "leoflow.db")}`, "--dags-folder", dagsFolder, "--data-dir", join(dir, "data")];
}

/** Calls the API (JSON in, JSON out when the answer parses, else its text). */
export type LeoflowApi = <T = any>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

/** Spawns `argv` with stdout and stderr captured together; `output()` is what it printed so far (its last `keepChars` when set). */
export function spawnCapturing(
  argv: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; keepChars?: number },
): { proc: Bun.Subprocess<"ignore", "pipe", "pipe">; output(): string } {
  const proc = Bun.spawn(argv, { cwd: opts.cwd, env: opts.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = s.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      out += decoder.decode(value, { stream: true });
      if (opts.keepChars !== undefined) out = out.slice(-opts.keepChars);
    }
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  return { proc, output: () => out };
}

/** The URL a starting server prints once it listens, or undefined while it has not yet. */
export const servingUrl = (output: string): string | undefined => output.match(/leoflow is serving url=(\S+)/)?.[1];

/** An API caller for the server at `url`, sending `token()` as the bearer when there is one (none: `--auth none`). */
export function apiCaller(url: string, token: () => string = () => ""): LeoflowApi {
  return async (method, path, body) => {
    const t = token();
    const res = await fetch(url + path, {
      method,
      headers: { "content-type": "application/json", ...(t ? { authorization: `Bearer ${t}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed as any };
  };
}

/**
 * Logs in as admin (POST /auth/token) and returns an API caller that sends the token. A refused login
 * throws `login failed: <status> <body>` followed by `failureSuffix()`.
 */
export async function loginAsAdmin(url: string, password: string, failureSuffix: () => string = () => ""): Promise<LeoflowApi> {
  let token = "";
  const api = apiCaller(url, () => token);
  const login = await api("POST", "/auth/token", { username: "admin", password });
  if (login.status !== 201) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}${failureSuffix()}`);
  token = login.body.access_token;
  return api;
}

/** Polls `probe` every `everyMs` until it returns a truthy value; throws `describe()` after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  describe: () => string,
  everyMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(describe());
    await Bun.sleep(everyMs);
  }
}
