/**
 * Fan-out throughput: one run of N parallel no-op tasks; tasks completed per second, from the trigger (or
 * the first enqueue) to the last task's end. Leoflow with inline `http` tasks (a local HTTP 200), subprocess
 * `bash` tasks (`true`) at --parallelism, and `empty` tasks (Airflow's EmptyOperator: the scheduler's plan marks
 * them success, no executor, so their row is the cost of creating, planning and writing the run); the peers
 * run N no-op jobs at the same concurrency, half of their trials before Leoflow's and half after. Every subject
 * runs --warmup untimed rounds before its trials (Leoflow's are a row of their own).
 */
import { skippedRow, type BenchContext, type TaskKind, type Workload } from "../lib/context";
import { BINARY, noopServer, runToEnd, ticksSoFar, waitForDags, httpTaskWork } from "../lib/leoflow";
import { busyMicrosPer, cpuSplitNote, cpuSplitReading, machineBusyMs, type CpuSplitReading } from "../lib/machine";
import { eachLeoflowVariant } from "../lib/leoflow-workload";
import { importPeer, peerLabel, REDIS } from "../lib/peers";
import { bracketedByPeers, type Row } from "../lib/stats";
import { nowMs } from "./chain";
import { leoflowMappedFanout } from "./fanout-mapped";
import { leoflowPooledFanout } from "./fanout-pooled";
import { leoflowTeamsFanout } from "./fanout-teams";

const WORKLOAD = "fanout";
export const THROUGHPUT = "tasks completed per second";
/**
 * What a task cost the whole machine over the same span as the throughput: every process's CPU (the server,
 * its database, the bench's no-op server; a peer's worker, Redis or Postgres) ÷ tasks. Steadier than the rate
 * between runs of a noisy machine, and it says how much of a gap in the rate is work rather than waiting.
 */
export const MACHINE_CPU = "machine CPU per task (µs, every process)";

/** A Leoflow throughput row of this workload, without its samples and note (as a skipped variant shows it). */
export const rateRow = (subject: string) =>
  ({ workload: WORKLOAD, metric: THROUGHPUT, subject, kind: "leoflow", better: "higher" }) as const satisfies Omit<Row, "samples" | "note">;

/** The machine CPU row beside a subject's throughput row: same subject, kind, floor and note. */
function cpuRow(throughput: Row, cpu: number[]): Row {
  return { ...throughput, metric: MACHINE_CPU, better: "lower", samples: cpu };
}

/** Pushes one trial's machine CPU per task onto `cpu` (nothing off Linux). */
function pushCpu(cpu: number[], before: number | null, after: number | null, items: number): void {
  const us = busyMicrosPer(before, after, items);
  if (us !== null) cpu.push(us);
}

/** What one task of the fan-out does, by kind. */
const TASK_OF: Record<TaskKind, (base: string) => Record<string, unknown>> = {
  http: (base) => ({ operator: "http", http: { url: `${base}/noop` } }),
  bash: () => ({ operator: "bash", bash_command: "true" }),
  empty: () => ({ operator: "empty" }),
};

/** Tasks in the fan-out of `kind`: bash tasks are processes, so they get the smaller count. */
const sizeOf = (ctx: BenchContext, kind: TaskKind) => (kind === "bash" ? ctx.opts.fanoutBash : ctx.opts.fanout);

function fanoutDag(kind: TaskKind, n: number, parallelism: number, base: string) {
  return {
    dag_id: `bench_fanout_${kind}`,
    max_active_runs: 1,
    max_active_tasks: parallelism,
    tasks: Array.from({ length: n }, (_, i) => ({
      task_id: `t${i}`,
      ...TASK_OF[kind](base),
    })),
  };
}

export const fanoutWorkload: Workload = async (ctx) => {
  const trials = ctx.opts.trials ?? 3;
  // The peers' trials bracket Leoflow's: BullMQ's 10,000-task rate read 11,762 and 8,418 in two runs 18 minutes apart.
  const compared = await bracketedByPeers(
    trials,
    (n) => peerFanouts(ctx, n),
    async () => [
      ...(await leoflowFanouts(ctx, trials)),
      ...(await leoflowMappedFanout(ctx, trials)),
      ...(await leoflowPooledFanout(ctx, trials)),
      ...(await leoflowTeamsFanout(ctx, trials)),
    ],
  );
  return [...compared, ...(await floors(ctx, trials))];
};

/** The run's task instances per second, from `t0` (its trigger, ms) to the last one's end. */
export const tasksPerSecond = (tis: readonly { end_date: string }[], t0: number): number =>
  tis.length / ((Math.max(...tis.map((ti) => Date.parse(ti.end_date))) - t0) / 1000);

/** The floor row a kind is compared with; an empty task does no work of its own, so it has none. */
const floorOf = (kind: TaskKind, p: number) =>
  kind === "http" ? `local HTTP requests, ${p} at once` : kind === "bash" ? `agent spawns (leoflow version), ${p} at once` : undefined;

/** The floor: just the task's own work, N times at the same parallelism (no store, no scheduling). */
async function floors(ctx: BenchContext, trials: number): Promise<Row[]> {
  const p = ctx.opts.parallelism;
  const rows: Row[] = [];
  const noop = noopServer();
  try {
    for (const kind of ctx.opts.kinds) {
      const subject = floorOf(kind, p);
      if (!subject) continue;
      ctx.log(`fanout: floor ${kind}`);
      const n = sizeOf(ctx, kind);
      const one =
        kind === "http"
          ? () => httpTaskWork(`${noop.base}/noop`)
          : async () => void (await Bun.spawn([BINARY, "version"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }).exited);
      const samples: number[] = [];
      const cpu: number[] = [];
      for (let t = 0; t < trials; t++) {
        let next = 0;
        const busy0 = machineBusyMs();
        const t0 = nowMs();
        await Promise.all(
          Array.from({ length: Math.min(p, n) }, async () => {
            while (next++ < n) await one();
          }),
        );
        samples.push(n / ((nowMs() - t0) / 1000));
        pushCpu(cpu, busy0, machineBusyMs(), n);
      }
      const row: Row = { workload: WORKLOAD, metric: THROUGHPUT, subject, kind: "floor", better: "higher", samples, note: `${n} of them` };
      rows.push(row, cpuRow(row, cpu));
    }
  } finally {
    noop.stop();
  }
  return rows;
}

async function leoflowFanouts(ctx: BenchContext, trials: number): Promise<Row[]> {
  const { parallelism } = ctx.opts;
  return eachLeoflowVariant(ctx, {
    workload: WORKLOAD,
    skipped: (label) =>
      ctx.opts.kinds.map((kind) => ({
        workload: WORKLOAD,
        metric: THROUGHPUT,
        subject: `leoflow ${label} · ${kind}`,
        kind: "leoflow" as const,
        better: "higher" as const,
      })),
    dags: (base) => ctx.opts.kinds.map((k) => fanoutDag(k, sizeOf(ctx, k), parallelism, base)),
    extraArgs: [`--parallelism=${parallelism}`, `--inline-concurrency=${parallelism}`],
    measure: async (lf, variant) => {
      const rows: Row[] = [];
      await waitForDags(
        lf,
        ctx.opts.kinds.map((k) => `bench_fanout_${k}`),
      );
      for (const kind of ctx.opts.kinds) {
        const samples: number[] = [];
        const cpu: number[] = [];
        // What the scheduler spent on it: its ticks per 1,000 tasks (a tick per end would be 1,000).
        const ticks: number[] = [];
        // Where each trial's CPU went (cpuSplitNote): one thread's bound shows as its share near 100%.
        const splits: string[] = [];
        // When each trial's first task started (ms after the trigger): the run's fixed part, a large share of 1,000 tasks.
        const firstStarts: number[] = [];
        const size = sizeOf(ctx, kind);
        // Untimed runs first (--warmup): the server is fresh, and its first run of a kind pays the JIT's compiles
        // (trial 0 ran 0.7-0.85x trial 2's rate on both stores); the peers, in this process, are warm after their
        // first round. Their rates are a row of their own.
        const warm: number[] = [];
        for (let w = 0; w < ctx.opts.warmup; w++) {
          const t0 = Date.now();
          const { tis } = await runToEnd(lf, `bench_fanout_${kind}`, `warmup-${w}`, 1_800_000);
          warm.push(tasksPerSecond(tis, t0));
          ctx.log(`fanout: leoflow ${variant.label} · ${kind} warm-up ${w}: ${warm.at(-1)!.toFixed(0)} tasks/s (untimed)`);
        }
        for (let t = 0; t < trials; t++) {
          const ticks0 = await ticksSoFar(lf);
          const busy0 = machineBusyMs();
          let busy1: number | null = null;
          const split0 = cpuSplitReading(lf.pid);
          let split1: CpuSplitReading | null = null;
          const t0 = Date.now();
          const { tis } = await runToEnd(lf, `bench_fanout_${kind}`, `trial-${t}`, 1_800_000, () => {
            busy1 = machineBusyMs();
            split1 = cpuSplitReading(lf.pid);
          });
          pushCpu(cpu, busy0, busy1, size);
          const split = cpuSplitNote(split0, split1);
          if (split) splits.push(split);
          ticks.push(((await ticksSoFar(lf)) - ticks0) / (size / 1000));
          samples.push(tasksPerSecond(tis, t0));
          // The run's fixed part (its creation, first read and plan) before the first task starts, of the trial's span.
          const firstStart = Math.min(...tis.map((ti) => Date.parse(ti.start_date ?? ti.end_date))) - t0;
          firstStarts.push(firstStart);
          ctx.log(
            `fanout: leoflow ${variant.label} · ${kind} trial ${t}: ${samples.at(-1)!.toFixed(0)} tasks/s, the first task started after ${firstStart} ms${split ? ` (${split})` : ""}`,
          );
        }
        const row: Row = {
          workload: WORKLOAD,
          metric: THROUGHPUT,
          subject: `leoflow ${variant.label} · ${kind}`,
          kind: "leoflow",
          better: "higher",
          samples,
          floor: floorOf(kind, parallelism),
          note: `${size} tasks, parallelism ${parallelism}; ${ticks.map((x) => x.toFixed(0)).join(" / ")} scheduler ticks per 1,000 tasks; the first task started ${firstStarts.join(" / ")} ms after the trigger`,
        };
        rows.push(row, { ...cpuRow(row, cpu), note: splits.length ? `${row.note}; busy in the last trial: ${splits.at(-1)}` : row.note });
        if (warm.length)
          rows.push({
            workload: WORKLOAD,
            metric: THROUGHPUT,
            subject: `${row.subject} (warm-up)`,
            kind: "leoflow",
            better: "higher",
            samples: warm,
            note: `${size} tasks, parallelism ${parallelism}; the untimed run${warm.length > 1 ? "s" : ""} before the trials above, on the server fresh for this workload`,
          });
      }
      return rows;
    },
  });
}

/** Counts completions and resolves when `n` jobs of the current trial are done. */
class Completion {
  private done = 0;
  private resolve: (() => void) | null = null;
  constructor(private readonly n: number) {}
  begin(): Promise<void> {
    this.done = 0;
    return new Promise((r) => (this.resolve = r));
  }
  one(): void {
    if (++this.done === this.n) this.resolve!();
  }
}

/** What a peer's job does: nothing, or what a Leoflow http task does (one local HTTP GET, its body read). */
type PeerJob = { label: string; note: string; run: () => Promise<void> };

/**
 * The peers' fan-outs: their no-op jobs (the targets' reference: the best peer row is the best of these), and
 * when http tasks are measured, the same jobs each doing a Leoflow http task's work (a GET to the same kind
 * of local no-op server, its body read), so the table also shows the peers doing the same work per task.
 */
async function peerFanouts(ctx: BenchContext, trials: number): Promise<Row[]> {
  const noopJob: PeerJob = { label: "", note: "", run: async () => {} };
  const rows = [...(await bullmqFanout(ctx, trials, noopJob)), ...(await graphileFanout(ctx, trials, noopJob))];
  if (!ctx.opts.kinds.includes("http")) return rows;
  const noop = noopServer();
  try {
    const httpJob: PeerJob = {
      label: " · http",
      note: "; each job one local HTTP GET, as an http task",
      run: () => httpTaskWork(`${noop.base}/noop`),
    };
    rows.push(...(await bullmqFanout(ctx, trials, httpJob)), ...(await graphileFanout(ctx, trials, httpJob)));
  } finally {
    noop.stop();
  }
  return rows;
}

/** The fields a peer's fan-out row has whatever it measured. */
const peerRow = (peer: "bullmq" | "graphile-worker", job: PeerJob) => ({
  workload: WORKLOAD,
  metric: THROUGHPUT,
  subject: `${peerLabel(peer)}${job.label}`,
  kind: "peer" as const,
  better: "higher" as const,
});

async function bullmqFanout(ctx: BenchContext, trials: number, job: PeerJob): Promise<Row[]> {
  const base = peerRow("bullmq", job);
  if (ctx.skipBullmq)
    return [skippedRow(base, ctx.skipBullmq), skippedRow({ ...base, metric: MACHINE_CPU, better: "lower" }, ctx.skipBullmq)];
  ctx.log(`fanout: bullmq${job.label}`);
  const { fanout: n, parallelism } = ctx.opts;
  const { Queue, Worker } = await importPeer("bullmq");
  const connection = { ...REDIS, maxRetriesPerRequest: null };
  const name = `leoflow-bench-fanout-${process.pid}`;
  const queue = new Queue(name, { connection });
  const completion = new Completion(n);
  const worker = new Worker(name, async () => (await job.run(), completion.one()), { connection, concurrency: parallelism });
  await worker.waitUntilReady();
  const samples: number[] = [];
  const cpu: number[] = [];
  try {
    // Untimed rounds first (--warmup), as Leoflow's: the peer's code compiled, its connections warm.
    for (let t = -ctx.opts.warmup; t < trials; t++) {
      const finished = completion.begin();
      const busy0 = machineBusyMs();
      const t0 = nowMs();
      for (let i = 0; i < n; i += 1000)
        await queue.addBulk(
          Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
            name: "noop",
            data: { i: i + j },
            opts: { removeOnComplete: true, removeOnFail: true },
          })),
        );
      await finished;
      if (t < 0) continue;
      samples.push(n / ((nowMs() - t0) / 1000));
      pushCpu(cpu, busy0, machineBusyMs(), n);
    }
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
  const row: Row = { ...base, samples, note: `addBulk, worker concurrency ${parallelism}, removeOnComplete${job.note}` };
  return [row, cpuRow(row, cpu)];
}

async function graphileFanout(ctx: BenchContext, trials: number, job: PeerJob): Promise<Row[]> {
  const base = peerRow("graphile-worker", job);
  if (ctx.skipGraphile)
    return [skippedRow(base, ctx.skipGraphile), skippedRow({ ...base, metric: MACHINE_CPU, better: "lower" }, ctx.skipGraphile)];
  ctx.log(`fanout: graphile-worker${job.label}`);
  const { fanout: n, parallelism } = ctx.opts;
  const gw = await importPeer("graphile-worker");
  const schema = ctx.pg!.schema();
  const completion = new Completion(n);
  const logger = new gw.Logger(() => () => {});
  // Throughput settings from graphile-worker's performance docs: a local queue (batch fetch) and batched completion.
  const runner = await gw.run({
    connectionString: ctx.pg!.url,
    schema,
    concurrency: parallelism,
    pollInterval: 100,
    noHandleSignals: true,
    logger,
    preset: { worker: { localQueue: { size: parallelism + 1 }, completeJobBatchDelay: 0 } },
    taskList: { noop: async () => (await job.run(), completion.one()) },
  });
  const utils = await gw.makeWorkerUtils({ connectionString: ctx.pg!.url, schema, logger });
  const samples: number[] = [];
  const cpu: number[] = [];
  try {
    // Untimed rounds first (--warmup), as Leoflow's.
    for (let t = -ctx.opts.warmup; t < trials; t++) {
      const finished = completion.begin();
      const busy0 = machineBusyMs();
      const t0 = nowMs();
      for (let i = 0; i < n; i += 1000)
        await utils.addJobs(Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ identifier: "noop", payload: { i: i + j } })));
      await finished;
      if (t < 0) continue;
      samples.push(n / ((nowMs() - t0) / 1000));
      pushCpu(cpu, busy0, machineBusyMs(), n);
    }
  } finally {
    await utils.release();
    await runner.stop();
  }
  const row: Row = {
    ...base,
    samples,
    note: `addJobs, concurrency ${parallelism}, localQueue ${parallelism + 1}, completeJobBatchDelay 0${job.note}`,
  };
  return [row, cpuRow(row, cpu)];
}
