/**
 * Chain latency: a chain of no-op tasks, trigger → run success. Per hop: downstream start − upstream end.
 * Leoflow's http hop is timed on the no-op server's clock (upstream's request answered → downstream's request
 * arrived: sub-millisecond, and a little more than the task's own end → start, since it adds the HTTP exchange on
 * both sides); its bash hop on the user processes' own clock (each task prints $EPOCHREALTIME: print → next
 * print, against bash after bash back to back), and a second row of each from the task instances' start_date −
 * end_date, read over the API with millisecond resolution. Leoflow runs `http` inline tasks (a local HTTP 200)
 * and subprocess `bash` tasks (a printf, a builtin) on each variant (Lite/SQLite, Lite/Postgres, Pro/Postgres);
 * the peers run the same chain with each job enqueueing the next, one worker slot. Every subject runs --warmup
 * untimed chains of warmupChain() tasks before its trials; Leoflow's first chain, before them, is a row of its own.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { skippedRow, type BenchContext, type Workload } from "../lib/context";
import { noopServer, removeDir, runToEnd, tempDir, waitForDags, type NoopServer, httpTaskWork } from "../lib/leoflow";
import { eachLeoflowVariant } from "../lib/leoflow-workload";
import { importPeer, peerLabel, REDIS } from "../lib/peers";
import { startReportServer } from "../lib/report-server";
import { bracketedByPeers, type Row } from "../lib/stats";

export const HOP = "per-hop latency (ms)";
export const TOTAL = "first start → last end (ms)";
/** The same hop from the API's millisecond timestamps. */
export const HOP_API = "per-hop latency from the API's ms timestamps (ms)";
/**
 * The floor of a bash hop on the user processes' own clock (HOP's bash rows are timed so): each task prints
 * $EPOCHREALTIME (a bash builtin) into a file, and the hop is the gap between consecutive prints: the upstream's
 * exit, its report, the next try's start and the downstream bash's own start-up, all of what a user waits for.
 */
export const USER_HOP = "per-hop latency on the user processes' clock, print → next print (ms)";
export const BASH_BACK_TO_BACK = "bash after bash, back to back";
/** The same floor measured by the chain workload around Leoflow's bash chains: their rows' reference. */
export const BASH_BESIDE_CHAIN = "bash after bash, beside the chains";
/** Bash after bash with each exit reported to a server that commits it before the next starts (report-server.ts). */
export const BASH_REPORTED = "bash after bash, each exit committed by a server first";
/** Where a subprocess hop's time goes, from the task instance's own timestamps. */
export const PHASE_DECIDE = "hop phase: upstream end → downstream queued (ms)";
export const PHASE_LAUNCH = "hop phase: downstream queued → start (ms)";
/** Leoflow's hops in the first chain a fresh server runs, before the warm-up chains (its JIT still cold). */
export const HOP_FIRST = "per-hop latency, a fresh server's first chain (ms)";
const WORKLOAD = "chain";
/**
 * Tasks in each untimed warm-up chain (--warmup of them) every subject runs before its trials, 20 × --chain
 * (200 by default): a server runs for days and its warm agents as long, so the hop a user waits for is a warm
 * one. A 10-task chain six times over runs each hop's code ~60 times from a fresh server, too few for the JIT
 * (the peers run in the bench's process, warm since its start); the first chain's hops stay a row of their own
 * (HOP_FIRST).
 */
export const warmupChain = (chain: number) => 20 * chain;

/** Wall clock in ms with sub-millisecond resolution (peers record their own timestamps). */
export const nowMs = () => performance.timeOrigin + performance.now();

/**
 * `clockDir`: where a bash chain's tasks print their $EPOCHREALTIME, one file each (USER_HOP). `name`: the DAG
 * is `bench_<name>_<kind>`, its http tasks' no-op paths under `/noop/<name>/`.
 */
export function chainDag(kind: "http" | "bash", length: number, base: string, clockDir?: string, name = "chain") {
  return {
    dag_id: `bench_${name}_${kind}`,
    max_active_runs: 1,
    tasks: Array.from({ length }, (_, i) => ({
      task_id: `t${i}`,
      upstream: i ? [`t${i - 1}`] : [],
      ...(kind === "http"
        ? { operator: "http", http: { url: `${base}${noopPath(i, name)}` } }
        : { operator: "bash", bash_command: clockDir ? printClockCommand(clockDir, i) : "true" }),
    })),
  };
}

/** Task i of a bash chain: its $EPOCHREALTIME (a bash builtin) into a file of its own under `clockDir`. */
export const printClockCommand = (clockDir: string, i: number) => `printf '%s' "$EPOCHREALTIME" > ${join(clockDir, `t${i}`)}`;

/** The no-op server path task i of the http chain calls: one per task, so the server can time each hop. */
const noopPath = (i: number, chain = "chain") => `/noop/${chain}/t${i}`;

/** Hops on the no-op server's clock: task i's request arrived − task i−1's (answered at once on arrival). */
function noopHops(noop: NoopServer, length: number, chain = "chain"): number[] {
  const at = Array.from({ length }, (_, i) => noop.arrivals(noopPath(i, chain)));
  if (at.some((a) => a.length !== 1))
    throw new Error(`chain: expected one request per task at the no-op server, got ${at.map((a) => a.length).join(",")}`);
  return at.slice(1).map((a, i) => a[0]! - at[i]![0]!);
}

/**
 * The floor row a Leoflow row is compared with (see workloads/floor.ts): a hop's commit with what the task kind
 * adds at the least, one local HTTP request (http) or one spawn of the agent binary (bash).
 */
export const floorSubject = (store: "sqlite" | "postgres", kind: "http" | "bash") =>
  `${store} commit + ${kind === "bash" ? "agent spawn" : "http request"}`;

export const chainWorkload: Workload = async (ctx) => {
  const trials = ctx.opts.trials ?? 5;
  const noop = ctx.opts.kinds.includes("http") ? noopServer() : null;
  try {
    // The peers' trials bracket Leoflow's, as in the fan-out: BullMQ's hop read 0.53 to 0.85 ms across one day's
    // runs, a swing as large as the gap being measured.
    return await bracketedByPeers(
      trials,
      async (n) => {
        const rows: Row[] = [];
        for (const job of [NOOP_JOB, ...(noop ? [httpJob(noop, ctx.opts.chain)] : [])])
          rows.push(...(await bullmqChain(ctx, n, job)), ...(await graphileChain(ctx, n, job)));
        return rows;
      },
      () => leoflowChains(ctx, trials),
    );
  } finally {
    noop?.stop();
  }
};

/**
 * What a peer's job does before it adds the next: nothing (the targets' reference, the best peer), or what a
 * Leoflow http task does, one GET to a no-op server with its body read; that chain's hops are then timed on the
 * no-op server's clock, as Leoflow's http hops are (the HTTP exchange on both sides included).
 */
interface PeerChainJob {
  label: string;
  note: string;
  run(i: number): Promise<void>;
  /** Called before each trial. */
  begin?(): void;
  /** The trial's hops, when not the job's own start − end stamps. */
  hops?(): number[];
}

const NOOP_JOB: PeerChainJob = { label: "", note: "", run: async () => {} };

function httpJob(noop: NoopServer, length: number): PeerChainJob {
  return {
    label: " · http",
    note: "; each job one local HTTP GET, as an http task; hops on the no-op server's clock, as Leoflow's",
    run: (i) => httpTaskWork(`${noop.base}${noopPath(i, "chain-peer")}`),
    begin: () => noop.record(),
    hops: () => noopHops(noop, length, "chain-peer"),
  };
}

async function leoflowChains(ctx: BenchContext, trials: number): Promise<Row[]> {
  // A chain of empty tasks ends within one plan (every hop 0): nothing to measure per hop.
  const kinds = ctx.opts.kinds.filter((k): k is "http" | "bash" => k !== "empty");
  if (!kinds.length) return [];
  const clockDir = tempDir("chain-clock");
  // The bash rows' floor, measured in this workload, half its trials before Leoflow's chains and half after (as
  // the peers' bracket them): the ratio then compares the same minutes of a machine whose speed drifts.
  const bash = kinds.includes("bash");
  const floorBefore = bash ? await backToBackBash(ctx.opts.chain, Math.ceil(trials / 2)) : [];
  const reportedBefore = bash ? await reportedBash(ctx.opts.chain, Math.ceil(trials / 2)) : [];
  try {
    const rows = await leoflowChainsPrinting(ctx, trials, kinds, clockDir);
    if (!bash) return rows;
    const floorAfter = await backToBackBash(ctx.opts.chain, Math.floor(trials / 2));
    const reportedAfter = await reportedBash(ctx.opts.chain, Math.floor(trials / 2));
    const floorRow = (subject: string, samples: number[], note: string): Row => ({
      workload: WORKLOAD,
      metric: USER_HOP,
      subject,
      kind: "floor",
      better: "lower",
      samples,
      note: `${note}, half before Leoflow's chains and half after`,
    });
    return [
      ...rows,
      floorRow(BASH_BESIDE_CHAIN, [...floorBefore, ...floorAfter], "bash after bash printing as the chain's tasks do"),
      floorRow(
        BASH_REPORTED,
        [...reportedBefore, ...reportedAfter],
        "as above, each exit reported over a pipe to a Bun process that commits two SQLite rows (WAL) and answers before the next bash starts: a hop's least server round trip",
      ),
    ];
  } finally {
    removeDir(clockDir);
  }
}

/** The gaps between the prints of a bash chain's tasks (USER_HOP), from the files they printed into. */
function userHops(clockDir: string, length: number): number[] {
  const at = Array.from({ length }, (_, i) => Number(readFileSync(join(clockDir, `t${i}`), "utf8")) * 1000);
  if (at.some((t) => !Number.isFinite(t) || t <= 0)) throw new Error(`chain: a bash task printed no time into ${clockDir}`);
  return at.slice(1).map((t, i) => t - at[i]!);
}

/**
 * The user processes' clock for a chain of bash tasks at its least: bash after bash from one parent, each
 * running the chain's bash task's own command (its $EPOCHREALTIME printed into a file of its own: the write
 * costs ~1 ms on this VM, more than a print to a pipe), the gaps between the prints; `trials` chains after
 * an untimed one.
 */
export async function backToBackBash(length: number, trials: number, afterExit?: () => Promise<void>): Promise<number[]> {
  const dir = tempDir("floor-clock");
  try {
    const gaps: number[] = [];
    for (let t = 0; t <= trials; t++) {
      for (let i = 0; i < length; i++) {
        const p = Bun.spawn(["bash", "-c", printClockCommand(dir, i)], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
        if ((await p.exited) !== 0) throw new Error(`bash -c ${printClockCommand(dir, i)} exited ${p.exitCode}`);
        await afterExit?.();
      }
      if (t) gaps.push(...userHops(dir, length));
    }
    return gaps;
  } finally {
    removeDir(dir);
  }
}

/** backToBackBash with each exit reported to a server that commits it before the next bash starts (BASH_REPORTED). */
async function reportedBash(length: number, trials: number): Promise<number[]> {
  const dir = tempDir("report-server");
  const server = await startReportServer(dir);
  try {
    return await backToBackBash(length, trials, server.report);
  } finally {
    await server.stop();
    removeDir(dir);
  }
}

async function leoflowChainsPrinting(ctx: BenchContext, trials: number, kinds: ("http" | "bash")[], clockDir: string): Promise<Row[]> {
  return eachLeoflowVariant(ctx, {
    workload: WORKLOAD,
    skipped: (label) =>
      kinds.flatMap((kind) =>
        [HOP, TOTAL, HOP_API].map((metric) => ({
          workload: WORKLOAD,
          metric,
          subject: `leoflow ${label} · ${kind}`,
          kind: "leoflow" as const,
          better: "lower" as const,
        })),
      ),
    dags: (base) =>
      kinds.flatMap((k) => [
        chainDag(k, ctx.opts.chain, base, clockDir),
        ...(ctx.opts.warmup ? [chainDag(k, warmupChain(ctx.opts.chain), base, join(clockDir, "warmup"), "chain_warmup")] : []),
      ]),
    measure: async (lf, variant, noop) => {
      const rows: Row[] = [];
      await waitForDags(
        lf,
        kinds.flatMap((k) => [`bench_chain_${k}`, ...(ctx.opts.warmup ? [`bench_chain_warmup_${k}`] : [])]),
      );
      mkdirSync(join(clockDir, "warmup"), { recursive: true });
      for (const kind of kinds) {
        const firstHops: number[] = [];
        const hops: number[] = [];
        const apiHops: number[] = [];
        const totals: number[] = [];
        const decide: number[] = [];
        const launch: number[] = [];
        // Trial 0 is the fresh server's first chain of the kind (its own row); the warm-up chains follow it.
        for (let t = 0; t <= trials; t++) {
          noop.record();
          const { tis } = await runToEnd(lf, `bench_chain_${kind}`, `trial-${t}`);
          const byIndex = tis.sort((a, b) => Number(a.task_id.slice(1)) - Number(b.task_id.slice(1)));
          const start = (ti: any) => Date.parse(ti.start_date);
          const end = (ti: any) => Date.parse(ti.end_date);
          const measured = kind === "http" ? noopHops(noop, byIndex.length) : userHops(clockDir, byIndex.length);
          if (t === 0) {
            firstHops.push(...measured);
            for (let w = 0; w < ctx.opts.warmup; w++) await runToEnd(lf, `bench_chain_warmup_${kind}`, `warmup-${w}`);
            continue;
          }
          hops.push(...measured);
          for (let i = 1; i < byIndex.length; i++) {
            apiHops.push(start(byIndex[i]) - end(byIndex[i - 1]));
            // Inline http tasks have no queued step (queued_when is null), and a task its upstream's end started
            // on a warm agent was queued and started at that end: only the other subprocess hops split.
            const queued = byIndex[i].queued_when ? Date.parse(byIndex[i].queued_when) : null;
            if (queued !== null && start(byIndex[i]) !== end(byIndex[i - 1]))
              decide.push(queued - end(byIndex[i - 1])), launch.push(start(byIndex[i]) - queued);
          }
          totals.push(end(byIndex.at(-1)) - start(byIndex[0]));
        }
        const store = variant.label.endsWith("sqlite") ? "sqlite" : "postgres";
        const subject = `leoflow ${variant.label} · ${kind}`;
        const hopFloor = kind === "http" ? { floor: floorSubject(store, kind) } : { floor: BASH_BESIDE_CHAIN, floorMetric: USER_HOP };
        rows.push({
          workload: WORKLOAD,
          metric: HOP,
          subject,
          kind: "leoflow",
          better: "lower",
          samples: hops,
          ...hopFloor,
          note:
            kind === "http"
              ? "on the no-op server's clock: upstream's request answered → downstream's arrived"
              : "on the user processes' clock: each task prints $EPOCHREALTIME, print → next print (what a user waits)",
        });
        rows.push({
          workload: WORKLOAD,
          metric: HOP_FIRST,
          subject,
          kind: "leoflow",
          better: "lower",
          samples: firstHops,
          ...hopFloor,
          note: `the first chain after start, before the warm-up chains (${ctx.opts.warmup} × ${warmupChain(ctx.opts.chain)} tasks) and the trials above`,
        });
        // An inline task's successor, and a bash task's on a warm agent, starts in its upstream's end write, so
        // its start_date is that end_date: 0 by construction, which the note says rather than leaving a row of
        // zeros to be read as a measurement.
        if (apiHops.length)
          rows.push({
            workload: WORKLOAD,
            metric: HOP_API,
            subject,
            kind: "leoflow",
            better: "lower",
            samples: apiHops,
            note: "the successor's start is written with its upstream's end (same timestamp): read the row above",
          });
        rows.push({
          workload: WORKLOAD,
          metric: TOTAL,
          subject,
          kind: "leoflow",
          better: "lower",
          samples: totals,
          floor: floorSubject(store, kind),
        });
        if (decide.length) {
          rows.push({
            workload: WORKLOAD,
            metric: PHASE_DECIDE,
            subject,
            kind: "leoflow",
            better: "lower",
            samples: decide,
            note: "scheduler: plan + queue",
          });
          rows.push({
            workload: WORKLOAD,
            metric: PHASE_LAUNCH,
            subject,
            kind: "leoflow",
            better: "lower",
            samples: launch,
            note: "spawn agent + agent start + RPC",
          });
        }
      }
      return rows;
    },
  });
}

/** Runs one chain of `length` jobs given a way to enqueue job i; returns per-hop gaps and the total. */
class ChainRecorder {
  starts: number[] = [];
  ends: number[] = [];
  private done: (() => void) | null = null;
  /** Jobs in the chain being run (the warm-up chains are longer than the timed ones). */
  constructor(public length: number) {}
  begin(): Promise<void> {
    this.starts = [];
    this.ends = [];
    return new Promise((r) => (this.done = r));
  }
  /** Called by the job body after its work (begun at `startedAt`): marks start and end; true when another job must follow. */
  job(i: number, startedAt = nowMs()): boolean {
    this.starts[i] = startedAt;
    this.ends[i] = nowMs();
    if (i + 1 < this.length) return true;
    this.done!();
    return false;
  }
  hops(): number[] {
    return this.starts.slice(1).map((s, i) => s - this.ends[i]!);
  }
  total(): number {
    return this.ends.at(-1)! - this.starts[0]!;
  }
}

/** `warmup` untimed chains of warmupChain() jobs, then an untimed chain and `trials` timed ones. */
async function recordTrials(rec: ChainRecorder, trials: number, warmup: number, job: PeerChainJob, enqueueFirst: () => Promise<unknown>) {
  const hops: number[] = [];
  const totals: number[] = [];
  const chain = async () => {
    const finished = rec.begin();
    await enqueueFirst();
    await finished;
  };
  const length = rec.length;
  rec.length = warmupChain(length);
  for (let w = 0; w < warmup; w++) await chain();
  rec.length = length;
  for (let t = 0; t <= trials; t++) {
    job.begin?.();
    await chain();
    if (t === 0) continue;
    hops.push(...(job.hops ? job.hops() : rec.hops()));
    totals.push(rec.total());
  }
  return { hops, totals };
}

async function bullmqChain(ctx: BenchContext, trials: number, job: PeerChainJob): Promise<Row[]> {
  const subject = peerLabel("bullmq") + job.label;
  const base = { workload: WORKLOAD, subject, kind: "peer" as const, better: "lower" as const };
  if (ctx.skipBullmq) return [HOP, TOTAL].map((metric) => skippedRow({ ...base, metric }, ctx.skipBullmq!));
  ctx.log(`chain: ${subject}`);
  const { Queue, Worker } = await importPeer("bullmq");
  const connection = { ...REDIS, maxRetriesPerRequest: null };
  const name = `leoflow-bench-chain-${process.pid}`;
  const queue = new Queue(name, { connection });
  const rec = new ChainRecorder(ctx.opts.chain);
  // Fast settings from BullMQ's docs: a blocking worker (woken by the add, no polling) and finished jobs removed.
  const jobOpts = { removeOnComplete: true, removeOnFail: true };
  const worker = new Worker(
    name,
    async (j: { data: { i: number } }) => {
      const startedAt = nowMs();
      await job.run(j.data.i);
      if (rec.job(j.data.i, startedAt)) await queue.add("hop", { i: j.data.i + 1 }, jobOpts);
    },
    { connection, concurrency: 1 },
  );
  await worker.waitUntilReady();
  try {
    const { hops, totals } = await recordTrials(rec, trials, ctx.opts.warmup, job, () => queue.add("hop", { i: 0 }, jobOpts));
    return [
      { ...base, metric: HOP, samples: hops, note: `each job adds the next; Redis 127.0.0.1:6379${job.note}` },
      { ...base, metric: TOTAL, samples: totals },
    ];
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}

async function graphileChain(ctx: BenchContext, trials: number, job: PeerChainJob): Promise<Row[]> {
  const subject = peerLabel("graphile-worker") + job.label;
  const base = { workload: WORKLOAD, subject, kind: "peer" as const, better: "lower" as const };
  if (ctx.skipGraphile) return [HOP, TOTAL].map((metric) => skippedRow({ ...base, metric }, ctx.skipGraphile!));
  ctx.log(`chain: ${subject}`);
  const gw = await importPeer("graphile-worker");
  const rec = new ChainRecorder(ctx.opts.chain);
  // Documented low-latency setup: jobs arrive by LISTEN/NOTIFY (always on); pollInterval only backs it up.
  const runner = await gw.run({
    connectionString: ctx.pg!.url,
    schema: ctx.pg!.schema(),
    concurrency: 1,
    pollInterval: 100,
    noHandleSignals: true,
    logger: new gw.Logger(() => () => {}),
    taskList: {
      hop: async (payload: { i: number }, helpers: { addJob: (id: string, p: unknown) => Promise<unknown> }) => {
        const startedAt = nowMs();
        await job.run(payload.i);
        if (rec.job(payload.i, startedAt)) await helpers.addJob("hop", { i: payload.i + 1 });
      },
    },
  });
  try {
    const { hops, totals } = await recordTrials(rec, trials, ctx.opts.warmup, job, () => runner.addJob("hop", { i: 0 }));
    return [
      { ...base, metric: HOP, samples: hops, note: `each job adds the next; LISTEN/NOTIFY, pollInterval 100 ms${job.note}` },
      { ...base, metric: TOTAL, samples: totals },
    ];
  } finally {
    await runner.stop();
  }
}
