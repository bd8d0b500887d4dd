/**
 * DAG parsing out of process, measured on the compiled binary:
 *  - start-to-healthy of `serve` with N dag.json files / M TS SDK files: cold (empty parse cache), and
 *    restarted (cache warm in the data dir), against an empty folder as the baseline;
 *  - the first sync alone (DagFolderSync.syncOnce with an IsolatedDagParser running the binary), cold, warm
 *    in the same process after every file was touched, and as a restart reading the persisted cache;
 *  - time from writing a `while (true) {}` file into a served folder to its import error (short timeout);
 *  - the server's RSS before and after a runaway-allocation file is parsed (default 512 MiB limit).
 *
 * Usage: bun scripts/benchmarks/dag-parse.ts [--binary dist/leoflow] [--json 1000] [--ts 200] [--trials 3]
 * Not a test: it prints a markdown table (and --out FILE writes JSON).
 */
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DagFolderSync, IsolatedDagParser, ParseCache } from "../../src/dags";
import { silentLogger } from "../../src/observability";
import { openStore } from "../../src/store";
import { VERSION } from "../../src/version";

const { values } = parseArgs({
  options: {
    binary: { type: "string", default: process.env.LEOFLOW_BENCH_BINARY ?? "dist/leoflow" },
    json: { type: "string", default: "1000" },
    ts: { type: "string", default: "200" },
    trials: { type: "string", default: "3" },
    out: { type: "string" },
  },
});
const BINARY = resolve(values.binary!);
const N_JSON = Number(values.json);
const N_TS = Number(values.ts);
const TRIALS = Number(values.trials);
const rows: { case: string; ms?: number[]; value?: string }[] = [];

const root = join(tmpdir(), `leoflow-bench-parse-${process.pid}`);
mkdirSync(root, { recursive: true });

function folder(name: string, kind: "json" | "ts" | "empty", n: number): string {
  const dir = join(root, name, "dags");
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const id = `${kind}_${String(i).padStart(4, "0")}`;
    if (kind === "json")
      writeFileSync(
        join(dir, `${id}.json`),
        JSON.stringify({
          dag_id: id,
          schedule: null,
          tasks: [
            { task_id: "a", operator: "bash", bash_command: "echo a" },
            { task_id: "b", operator: "bash", bash_command: "echo b", upstream: ["a"] },
          ],
        }),
      );
    else
      writeFileSync(
        join(dir, `${id}.ts`),
        `import { dag } from "leoflow/sdk";\ndag({ dag_id: "${id}" }, ({ bash, ts }) => {\n  const a = bash({ task_id: "a", bash_command: "echo a" });\n  ts({ task_id: "b", upstream: [a] }, () => 1);\n});\n`,
      );
  }
  return join(root, name);
}

interface Server {
  proc: Bun.Subprocess;
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `serve` in `dir` and resolves when /api/v2/monitor/health answers 200; returns the elapsed ms. */
async function serve(dir: string, args: string[] = []): Promise<{ server: Server; ms: number }> {
  const t0 = performance.now();
  const proc = Bun.spawn(
    [
      BINARY,
      "serve",
      "--auth=none",
      "--port",
      "0",
      "--dags-folder",
      join(dir, "dags"),
      "--data-dir",
      join(dir, "data"),
      `--db=sqlite:${join(dir, "leoflow.db")}`,
      ...args,
    ],
    { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: "bench-admin-password" } },
  );
  let out = "";
  const read = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s as unknown as AsyncIterable<Uint8Array>) out += new TextDecoder().decode(c);
  };
  void read(proc.stdout);
  void read(proc.stderr);
  let url: string | undefined;
  while (!url) {
    if (proc.exitCode !== null) throw new Error(`serve exited ${proc.exitCode}:\n${out}`);
    url = out.match(/leoflow is serving url=(\S+)/)?.[1];
    if (!url) await Bun.sleep(2);
  }
  while ((await fetch(`${url}/api/v2/monitor/health`).catch(() => null))?.status !== 200) await Bun.sleep(2);
  const ms = performance.now() - t0;
  return { ms, server: { proc, url, output: () => out, stop: async () => void (proc.kill("SIGTERM"), await proc.exited) } };
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

async function startCases(): Promise<void> {
  for (const [kind, n] of [
    ["empty", 0],
    ["json", N_JSON],
    ["ts", N_TS],
  ] as const) {
    const cold: number[] = [];
    const warm: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const dir = folder(`${kind}-${t}`, kind, n);
      const first = await serve(dir);
      cold.push(first.ms);
      await first.server.stop();
      const again = await serve(dir);
      warm.push(again.ms);
      if (t === 0) console.error(`${kind}: ${again.server.output().match(/DAG folder loaded.*/)?.[0]}`);
      await again.server.stop();
      rmSync(join(root, `${kind}-${t}`), { recursive: true, force: true });
    }
    const label = kind === "empty" ? "empty folder" : `${n} ${kind === "json" ? "dag.json" : "TS SDK"} files`;
    rows.push({ case: `serve start-to-healthy, ${label}, first start (cache cold)`, ms: cold });
    rows.push({ case: `serve start-to-healthy, ${label}, restart (cache warm)`, ms: warm });
  }
}

/** The sync alone: DagFolderSync over a SQLite store, parsing through the binary. */
async function syncCases(): Promise<void> {
  for (const [kind, n] of [
    ["json", N_JSON],
    ["ts", N_TS],
  ] as const) {
    const cold: number[] = [];
    const touched: number[] = [];
    const restart: number[] = [];
    let processes = "";
    for (let t = 0; t < TRIALS; t++) {
      const dir = folder(`sync-${kind}-${t}`, kind, n);
      const cacheFile = join(dir, "data", "dag-parse-cache.json");
      const run = async () => {
        const store = openStore(`sqlite:${join(dir, "leoflow.db")}`);
        await store.migrate();
        const parser = new IsolatedDagParser({ command: [BINARY], version: VERSION, cache: await ParseCache.open(cacheFile) });
        const sync = new DagFolderSync({
          team: "default",
          folder: join(dir, "dags"),
          store,
          parser,
          pausedOnCreate: false,
          logger: silentLogger,
        });
        return { store, parser, sync };
      };
      const a = await run();
      let t0 = performance.now();
      await a.sync.syncOnce();
      cold.push(performance.now() - t0);
      processes = `${a.parser.stats.processes} parse processes, peak child RSS ${Math.round(a.parser.stats.peakRss / 2 ** 20)} MiB`;
      // Every file touched (new mtime, same bytes): all re-read and hashed, none re-parsed.
      const later = new Date(Date.now() + 5000);
      for (const f of new Bun.Glob("*").scanSync(join(dir, "dags"))) utimesSync(join(dir, "dags", f), later, later);
      t0 = performance.now();
      await a.sync.syncOnce();
      touched.push(performance.now() - t0);
      await a.store.close();
      const b = await run();
      t0 = performance.now();
      await b.sync.syncOnce();
      restart.push(performance.now() - t0);
      if (b.parser.stats.processes !== 0) throw new Error(`restart spawned ${b.parser.stats.processes} parse processes`);
      await b.store.close();
      rmSync(join(root, `sync-${kind}-${t}`), { recursive: true, force: true });
    }
    const label = `${n} ${kind === "json" ? "dag.json" : "TS SDK"} files`;
    rows.push({ case: `first sync, ${label}, cold (${processes})`, ms: cold });
    rows.push({ case: `re-sync, ${label}, all touched, cache warm (0 processes)`, ms: touched });
    rows.push({ case: `sync after restart, ${label}, persisted cache (0 processes)`, ms: restart });
  }
}

async function hostileCases(): Promise<void> {
  const dir = folder("hostile", "json", 1);
  const { server } = await serve(dir, ["--dag-parse-timeout", "2"]);
  let server$ = server;
  const errorsFor = async (name: string) =>
    (
      (await (await fetch(`${server$.url}/api/v2/importErrors`)).json()) as { import_errors: { filename: string; stack_trace: string }[] }
    ).import_errors.find((e) => e.filename.endsWith(name));
  const hang: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const name = `hang_${t}.ts`;
    const t0 = performance.now();
    writeFileSync(join(dir, "dags", name), "while (true) {}\n");
    while (!(await errorsFor(name))) await Bun.sleep(10);
    hang.push(performance.now() - t0);
  }
  rows.push({ case: "write `while (true) {}` file → its import error (--dag-parse-timeout 2, incl. 200 ms watch debounce)", ms: hang });
  await server.stop();

  const mem = await serve(dir); // default 512 MiB
  server$ = mem.server;
  await Bun.sleep(1000);
  const before = rssMiB(mem.server.proc.pid);
  writeFileSync(join(dir, "dags", "runaway.ts"), "const keep: number[][] = [];\nwhile (true) keep.push(new Array(1e6).fill(1));\n");
  let err: { filename: string; stack_trace: string } | undefined;
  try {
    while (!(err = await errorsFor("runaway.ts"))) await Bun.sleep(10);
  } catch {
    throw new Error(
      `the server stopped answering (exit ${mem.server.proc.exitCode}, signal ${mem.server.proc.signalCode}):\n${mem.server.output()}`,
    );
  }
  await Bun.sleep(1000);
  const after = rssMiB(mem.server.proc.pid);
  rows.push({
    case: "server RSS before / after a runaway-allocation file (limit 512 MiB)",
    value: `${before.toFixed(0)} MiB / ${after.toFixed(0)} MiB (${err.stack_trace.slice(0, 40)}…)`,
  });
  await mem.server.stop();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  await startCases();
  await syncCases();
  await hostileCases();
} finally {
  rmSync(root, { recursive: true, force: true });
}
console.log(`\nDAG parsing (binary ${BINARY}, ${TRIALS} trials, median [min–max])\n`);
console.log("| case | result |\n|---|---|");
for (const r of rows)
  console.log(
    `| ${r.case} | ${r.ms ? `${median(r.ms).toFixed(0)} ms [${Math.min(...r.ms).toFixed(0)}–${Math.max(...r.ms).toFixed(0)}]` : r.value} |`,
  );
if (values.out) writeFileSync(values.out, JSON.stringify(rows, null, 2));
