/**
 * Starts the compiled binary as a user would (`dist/leoflow serve …`, fresh temp dir, real admin login) and
 * talks to it over HTTP. Spawning, the admin login and polling are shared with the e2e harness through
 * test/support/leoflow-process.ts (a module that imports nothing from tests).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loginAsAdmin, servingUrl, spawnCapturing, waitFor, type LeoflowApi } from "../../../test/support/leoflow-process";

export { waitFor };

/** The binary under test: dist/leoflow, or LEOFLOW_BENCH_BINARY (e.g. a build of another commit). */
export const BINARY = process.env.LEOFLOW_BENCH_BINARY || resolve(import.meta.dir, "../../../dist/leoflow");
const ADMIN_PASSWORD = "bench-admin-password";
const JWT_SECRET = "bench-jwt-secret-0123456789abcdef";

export interface Leoflow {
  url: string;
  dir: string;
  pid: number;
  output(): string;
  api: LeoflowApi;
  stop(): Promise<void>;
}

export interface LeoflowVariant {
  /** Short label used in subjects, e.g. "lite sqlite". */
  label: string;
  /** Flags naming the mode and store; the data dir and DAGs folder are added by startLeoflow. */
  args: (dir: string) => string[];
}

/** Lite on a SQLite file, Lite on Postgres, Pro on Postgres (subprocess executor), given a schema maker. */
export function variants(pg: { url: string; schema(): string } | null): LeoflowVariant[] {
  const list: LeoflowVariant[] = [{ label: "lite sqlite", args: (dir) => ["--mode=lite", `--db=sqlite:${join(dir, "leoflow.db")}`] }];
  if (pg) {
    list.push({ label: "lite postgres", args: () => ["--mode=lite", `--db=${withSearchPath(pg.url, pg.schema())}`] });
    list.push({
      label: "pro postgres",
      args: () => [
        "--mode=pro",
        "--executor=subprocess",
        `--jwt-secret=${JWT_SECRET}`,
        "--secrets-key=0000000000000000000000000000000000000000000000000000000000000001",
        "--leader-poll=0.2",
        `--db=${withSearchPath(pg.url, pg.schema())}`,
      ],
    });
  }
  return list;
}

export function withSearchPath(url: string, schema: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}search_path=${schema}`;
}

/**
 * Writes each DAG as `<dag_id>.json` into a new DAGs folder under `dir`; a DAG with a `team` goes into that team's
 * subfolder (`--dags-folder-layout=teams`), the field itself left out of the file.
 */
export function writeDags(dir: string, dags: { dag_id: string; team?: string }[]): string {
  const folder = join(dir, "dags");
  mkdirSync(folder, { recursive: true });
  for (const { team, ...d } of dags) {
    const into = team ? join(folder, team) : folder;
    mkdirSync(into, { recursive: true });
    writeFileSync(join(into, `${d.dag_id}.json`), JSON.stringify(d));
  }
  return folder;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `leoflow-bench-${prefix}-`));
}

export async function startLeoflow(opts: {
  dir: string;
  variant: LeoflowVariant;
  extraArgs?: string[];
  env?: Record<string, string>;
}): Promise<Leoflow> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run scripts/bench without --no-build, or bun scripts/build.ts`);
  const { dir } = opts;
  const args = [
    BINARY,
    "serve",
    ...opts.variant.args(dir),
    "--dags-folder",
    join(dir, "dags"),
    "--data-dir",
    join(dir, "data"),
    "--port",
    "0",
    ...(opts.extraArgs ?? []),
  ];
  const { proc, output } = spawnCapturing(args, {
    cwd: dir,
    env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD, ...opts.env },
    keepChars: 200_000,
  });
  const url = await waitFor(
    () => (proc.exitCode !== null ? Promise.reject(new Error(`leoflow exited ${proc.exitCode}:\n${output()}`)) : servingUrl(output())),
    30_000,
    () => `leoflow did not start:\n${output()}`,
    20,
  );
  const api = await loginAsAdmin(url, ADMIN_PASSWORD, () => `\n${output()}`);
  return {
    url,
    dir,
    pid: proc.pid,
    output,
    api,
    stop: async () => {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

/** Scheduler ticks the server has run so far (the count of its tick-duration histogram on /metrics). */
export async function ticksSoFar(lf: Leoflow): Promise<number> {
  const text = await (await fetch(`${lf.url}/metrics`)).text();
  const m = text.match(/^leoflow_scheduler_tick_duration_seconds_count(?:\{[^}]*\})? (\d+)/m);
  if (!m) throw new Error("the server's /metrics has no leoflow_scheduler_tick_duration_seconds_count");
  return Number(m[1]);
}

/** `path` acting in `team` (its query parameter), or in the caller's own team when none is given. */
const inTeam = (path: string, team?: string): string => (team ? `${path}${path.includes("?") ? "&" : "?"}team=${team}` : path);

/** Waits until every DAG id is known to the server (the DAG folder is scanned at start and every ~2 s), in `team`. */
export async function waitForDags(lf: Leoflow, ids: string[], team?: string): Promise<void> {
  for (const id of ids)
    await waitFor(
      async () => (await lf.api("GET", inTeam(`/api/v2/dags/${id}`, team))).status === 200,
      30_000,
      () => `DAG ${id} never loaded:\n${lf.output().slice(-3000)}`,
      50,
    );
}

/**
 * Triggers a run, waits for its end and reads it back with its task instances (all pages). `ended` is called
 * the moment the wait answers, before the reads (a workload measuring the run's own cost stops its clocks there).
 * `team`: the DAG's team, when not the caller's own.
 */
export async function runToEnd(
  lf: Leoflow,
  dagId: string,
  runId: string,
  timeoutMs = 300_000,
  ended?: () => void,
  team?: string,
): Promise<{ run: any; tis: any[] }> {
  const t = await lf.api("POST", inTeam(`/api/v2/dags/${dagId}/dagRuns`, team), { dag_run_id: runId, logical_date: null });
  if (t.status !== 200) throw new Error(`trigger ${dagId} failed: ${t.status} ${JSON.stringify(t.body)}`);
  // The run's wait stream (one store read per interval on the server), not a full API request every 25 ms: the
  // peers are watched in-process for nothing, and 40 authenticated reads a second were ~4% of a busy server's
  // thread in a CPU profile of a 10,000-task SQLite fan-out (its tasks/s did not move measurably either way).
  let timer: Timer | undefined;
  const waited = await Promise.race([
    lf.api<string>("GET", inTeam(`/api/v2/dags/${dagId}/dagRuns/${runId}/wait?interval=0.025`, team)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`run ${dagId}/${runId} did not end:\n${lf.output().slice(-3000)}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  ended?.();
  // NDJSON: the caller parsed a one-line stream as JSON already; a longer one stays text, its last line the end.
  const body: unknown = waited.body;
  const last = typeof body === "string" ? JSON.parse(body.trim().split("\n").at(-1)!) : body;
  const state = (last as { state?: string | null } | null)?.state ?? null;
  if (waited.status !== 200 || state !== "success")
    throw new Error(`run ${dagId}/${runId} ended ${state ?? `(wait answered ${waited.status})`}:\n${lf.output().slice(-3000)}`);
  const run = (await lf.api("GET", inTeam(`/api/v2/dags/${dagId}/dagRuns/${runId}`, team))).body;
  return { run, tis: await listAll(lf, inTeam(`/api/v2/dags/${dagId}/dagRuns/${runId}/taskInstances`, team), "task_instances") };
}

/** Reads every page of an Airflow list endpoint (limit 1000). */
export async function listAll(lf: Leoflow, path: string, key: string): Promise<any[]> {
  const items: any[] = [];
  for (let offset = 0; ; offset += 1000) {
    const sep = path.includes("?") ? "&" : "?";
    const page = (await lf.api("GET", `${path}${sep}limit=1000&offset=${offset}`)).body;
    items.push(...page[key]);
    if (page[key].length < 1000) return items;
  }
}

/** A local HTTP server answering 200 to anything: the no-op behind inline http tasks. */
export interface NoopServer {
  base: string;
  hits(): number;
  /** When each request for `path` arrived (wall ms, sub-ms resolution), oldest first; only while recording. */
  arrivals(path: string): number[];
  /** Starts recording arrivals afresh (recording costs a Map lookup per request, so only the chain asks for it). */
  record(): void;
  stop(): void;
}

/** What a Leoflow http task does to the no-op server: one GET, its body read (the peers' `· http` jobs do the same). */
export async function httpTaskWork(url: string): Promise<void> {
  await (await fetch(url)).text();
}

export function noopServer(): NoopServer {
  let hits = 0;
  let seen: Map<string, number[]> | null = null;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) => {
      hits++;
      if (seen) {
        const at = performance.timeOrigin + performance.now();
        const path = new URL(req.url).pathname;
        const list = seen.get(path);
        list ? list.push(at) : seen.set(path, [at]);
      }
      return new Response("ok");
    },
  });
  return {
    base: `http://127.0.0.1:${server.port}`,
    hits: () => hits,
    arrivals: (path) => seen?.get(path) ?? [],
    record: () => void (seen = new Map()),
    stop: () => server.stop(true),
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** CPU a process has used so far (user + system, ms), from /proc/PID/stat (clock ticks of 10 ms). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text();
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident memory of a process in MiB (VmRSS, or VmHWM for the peak), from /proc. */
export async function rssMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kb = Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1]);
  return +(kb / 1024).toFixed(1);
}
