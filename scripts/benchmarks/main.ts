/**
 * scripts/bench: Leoflow side by side with its peers (BullMQ, graphile-worker) and the floor (the minimum
 * work a hop needs), on this machine, in one run. Prints markdown tables of median and p99 over repeated
 * trials with ratios to the best peer and to the floor; `--out FILE` writes the same as JSON.
 *
 * Usage: scripts/bench [chain|fanout|tick|tick-teams|cron|footprint|floor|all ...] [flags]   (see --help)
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { BenchContext, BenchOptions, TaskKind, Workload } from "./lib/context";
import { describeMachine, machineLine } from "./lib/machine";
import { openBenchPg } from "./lib/pg";
import { ensurePeers, peersInstalled, PEER_VERSIONS, REDIS, tcpOpen } from "./lib/peers";
import { renderTables, withRatios, type Row } from "./lib/stats";
import { unitEnvironment } from "../../test/support/unit-environment";
import { chainWorkload } from "./workloads/chain";
import { cronWorkload } from "./workloads/cron";
import { fanoutWorkload } from "./workloads/fanout";
import { floorWorkload } from "./workloads/floor";
import { footprintWorkload } from "./workloads/footprint";
import { tickWorkload } from "./workloads/tick";
import { tickTeamsWorkload } from "./workloads/tick-teams";
import { sensorsWorkload } from "./workloads/sensors";
import { logsWorkload } from "./workloads/logs";

const WORKLOADS: Record<string, Workload> = {
  chain: chainWorkload,
  fanout: fanoutWorkload,
  tick: tickWorkload,
  "tick-teams": tickTeamsWorkload,
  sensors: sensorsWorkload,
  cron: cronWorkload,
  logs: logsWorkload,
  footprint: footprintWorkload,
  floor: floorWorkload,
};

const HELP = `Usage: scripts/bench [${Object.keys(WORKLOADS).join("|")}|all ...] [flags]

Runs each named workload (default: all) against Leoflow, its peers and the floor, then prints markdown
tables (median, p99, ratio to the best peer and to the floor). Needs dist/leoflow (the wrapper builds it).

Flags (defaults finish in a few minutes per workload on 2 cores):
  --trials N          repeated trials per subject (default per workload: chain 5, fanout 3, tick 5, footprint 5)
  --warmup N          untimed rounds each subject runs before its trials (default 1): a fan-out run, or in the
                      chain workload a chain of 20 × --chain tasks. Leoflow's server starts fresh for the workload and
                      its first runs pay the JIT's compiles; the peers run in this process, warm after their
                      first round. Leoflow's warm-up fan-outs and its first chains are rows of their own
  --chain N           tasks in the chain (default 10)
  --fanout N          parallel tasks in the fan-out run (default 1000; --large: 10000)
  --fanout-bash N     parallel bash tasks in the fan-out run (default 200: spawns cap the rate; --large: 1000)
  --large             fan-out of 10,000 tasks
  --parallelism N     Leoflow --parallelism/--inline-concurrency and the peers' concurrency (default 32)
  --runs N            active runs seeded for tick and footprint (default 10000)
  --run-tasks N       task instances per seeded run (default 10)
  --cron-dags N       DAGs scheduled every second (default 200)
  --cron-seconds N    how long the cron workload watches (default 10)
  --log-lines N       lines the logs workload's bash task prints (default 100000)
  --variants LIST     comma list of: lite-sqlite, lite-postgres, pro-postgres (default all three)
  --kinds LIST        comma list of: http, bash, empty (default all three; empty: the fan-out only)
  --launch bare|unit  how the binaries run: bare, as \`./leoflow serve\` from a shell (default), or with the
                      installed systemd unit's Environment= lines (packaging/leoflow.service), as the service and
                      the container image run it; the in-process peers are not affected
  --no-peers          skip BullMQ and graphile-worker (otherwise installed on demand into scripts/benchmarks/.peers)
  --no-install        use the peers only if already installed (no network)
  --pg URL            Postgres for Leoflow-on-Postgres and graphile-worker (default LEOFLOW_TEST_PG or
                      postgres://postgres@127.0.0.1:5432/test); throwaway schemas are dropped afterwards
  --out FILE          also write the results as JSON
`;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    trials: { type: "string" },
    warmup: { type: "string", default: "1" },
    chain: { type: "string", default: "10" },
    fanout: { type: "string" },
    "fanout-bash": { type: "string" },
    large: { type: "boolean", default: false },
    parallelism: { type: "string", default: "32" },
    runs: { type: "string", default: "10000" },
    "run-tasks": { type: "string", default: "10" },
    "cron-dags": { type: "string", default: "200" },
    "cron-seconds": { type: "string", default: "10" },
    "log-lines": { type: "string", default: "100000" },
    variants: { type: "string", default: "lite-sqlite,lite-postgres,pro-postgres" },
    kinds: { type: "string", default: "http,bash,empty" },
    launch: { type: "string", default: "bare" },
    "no-peers": { type: "boolean", default: false },
    "no-install": { type: "boolean", default: false },
    pg: { type: "string", default: process.env.LEOFLOW_TEST_PG || "postgres://postgres@127.0.0.1:5432/test" },
    out: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}
const names = positionals.length === 0 || positionals.includes("all") ? Object.keys(WORKLOADS) : positionals;
const unknown = names.filter((n) => !WORKLOADS[n]);
if (unknown.length) {
  console.error(`error: unknown workload ${unknown.join(", ")}; pick from ${Object.keys(WORKLOADS).join(", ")} or all`);
  process.exit(2);
}
const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`error: --${name} expects a whole number ≥ 1, got "${v}"`);
    process.exit(2);
  }
  return n;
};
const warmup = Number(flags.warmup);
if (!Number.isInteger(warmup) || warmup < 0) {
  console.error(`error: --warmup expects a whole number ≥ 0, got "${flags.warmup}"`);
  process.exit(2);
}
const opts: BenchOptions = {
  trials: int("trials", flags.trials),
  warmup,
  chain: int("chain", flags.chain)!,
  fanout: int("fanout", flags.fanout) ?? (flags.large ? 10_000 : 1_000),
  fanoutBash: int("fanout-bash", flags["fanout-bash"]) ?? (flags.large ? 1_000 : 200),
  parallelism: int("parallelism", flags.parallelism)!,
  runs: int("runs", flags.runs)!,
  runTasks: int("run-tasks", flags["run-tasks"])!,
  cronDags: int("cron-dags", flags["cron-dags"])!,
  cronSeconds: int("cron-seconds", flags["cron-seconds"])!,
  logLines: int("log-lines", flags["log-lines"])!,
  variants: flags.variants!.split(",").map((v) => v.trim().replace("-", " ")),
  kinds: flags.kinds!.split(",").map((k) => k.trim()) as TaskKind[],
  launch: flags.launch as BenchOptions["launch"],
};
const VARIANTS = ["lite sqlite", "lite postgres", "pro postgres"];
if (opts.variants.some((v) => !VARIANTS.includes(v))) {
  console.error(`error: --variants expects a comma list of lite-sqlite, lite-postgres, pro-postgres; got "${flags.variants}"`);
  process.exit(2);
}
if (opts.launch !== "bare" && opts.launch !== "unit") {
  console.error(`error: --launch expects bare or unit; got "${flags.launch}"`);
  process.exit(2);
}
// Every binary the workloads spawn inherits this process's environment; Bun reads allocator settings only at
// start, so the peers running inside this process keep theirs.
const launchEnv = opts.launch === "unit" ? unitEnvironment() : {};
Object.assign(process.env, launchEnv);
if (opts.kinds.some((k) => k !== "http" && k !== "bash" && k !== "empty")) {
  console.error(`error: --kinds expects a comma list of http, bash, empty; got "${flags.kinds}"`);
  process.exit(2);
}

const machine = describeMachine();
const log = (m: string) => console.error(`[bench ${new Date().toISOString().slice(11, 23)}] ${m}`);
const pg = await openBenchPg(flags.pg!);

let peersWhy: string | null = null;
if (flags["no-peers"]) peersWhy = "--no-peers";
else if (flags["no-install"] && !peersInstalled()) peersWhy = "peers not installed and --no-install given";
else peersWhy = await ensurePeers();
const redisUp = await tcpOpen(REDIS.host, REDIS.port);
const ctx: BenchContext = {
  opts,
  pg,
  skipBullmq: peersWhy ?? (redisUp ? null : `no Redis at ${REDIS.host}:${REDIS.port}`),
  skipGraphile: peersWhy ?? (pg ? null : "no Postgres"),
  log,
};
if (ctx.skipBullmq) console.log(`bullmq skipped: ${ctx.skipBullmq}`);
if (ctx.skipGraphile) console.log(`graphile-worker skipped: ${ctx.skipGraphile}`);

const rows: Row[] = [];
const started = Date.now();
try {
  for (const name of names) {
    log(`workload ${name}`);
    const t = Date.now();
    try {
      rows.push(...(await WORKLOADS[name]!(ctx)));
    } catch (e) {
      // One broken workload must not hide the others' results.
      console.error(`workload ${name} failed: ${(e as Error).stack ?? e}`);
      rows.push({
        workload: name,
        metric: "error",
        subject: "workload",
        kind: "leoflow",
        better: "lower",
        samples: [],
        note: `failed: ${(e as Error).message.split("\n")[0]}`,
      });
    }
    log(`workload ${name} took ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
} finally {
  await pg?.dropSchemas();
}

const results = withRatios(rows);
const header = [
  `## Leoflow bench — ${new Date().toISOString()}`,
  "",
  machineLine(machine),
  `postgres: ${pg ? pg.note : "not answering: its rows skipped"}`,
  `peers: bullmq ${PEER_VERSIONS.bullmq} (ioredis ${PEER_VERSIONS.ioredis}, Redis ${REDIS.host}:${REDIS.port}), graphile-worker ${PEER_VERSIONS["graphile-worker"]}; run in-process on Bun`,
  `launch: ${
    opts.launch === "unit"
      ? `with the systemd unit's environment (${
          Object.entries(launchEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ") || "none set"
        }); the peers in-process as before`
      : "bare (as ./leoflow serve from a shell)"
  }`,
  `sizes: chain ${opts.chain}, fan-out ${opts.fanout} (bash ${opts.fanoutBash}) at parallelism ${opts.parallelism}, tick ${opts.runs} runs × ${opts.runTasks} tasks, cron ${opts.cronDags} DAGs × ${opts.cronSeconds} s; took ${((Date.now() - started) / 1000).toFixed(0)} s`,
  "",
].join("\n");
console.log(header);
console.log(renderTables(results));
if (flags.out) {
  writeFileSync(
    flags.out,
    JSON.stringify(
      { at: new Date().toISOString(), machine, postgres: pg?.note ?? null, peers: PEER_VERSIONS, options: opts, workloads: names, results },
      null,
      2,
    ) + "\n",
  );
  log(`wrote ${flags.out}`);
}
const failed = results.some((r) => r.metric === "error");
process.exit(failed ? 1 : 0);
