/**
 * Fan-out throughput: one run of N parallel no-op tasks; tasks completed per second, from the trigger (or
 * the first enqueue) to the last task's end. Leoflow with inline `http` tasks (a local HTTP 200), subprocess
 * `bash` tasks (`true`) at --parallelism, and `empty` tasks (Airflow's EmptyOperator: the scheduler's plan marks
 * them success, no executor, so their row is the cost of creating, planning and writing the run); the peers
 * run N no-op jobs at the same concurrency.
 */
import { skippedRow, type BenchContext, type TaskKind, type Workload } from "../lib/context";
import { BINARY, noopServer, runToEnd, ticksSoFar, waitForDags, type Leoflow, type LeoflowVariant } from "../lib/leoflow";
import { busyMicrosPer, machineBusyMs } from "../lib/machine";
import { startLeoflowVariants } from "../lib/leoflow-workload";
import { importPeer, peerLabel, REDIS } from "../lib/peers";
import type { Row } from "../lib/stats";
import { nowMs } from "./chain";
import { leoflowMappedFanout } from "./fanout-mapped";

const WORKLOAD = "fanout";
export const THROUGHPUT = "tasks completed per second";
/**
 * What a task cost the whole machine over the same span as the throughput: every process's CPU (the server,
 * its database, the bench's no-op server; a peer's worker, Redis or Postgres) ÷ tasks. Steadier than the rate
 * between runs of a noisy machine, and it says how much of a gap in the rate is work rather than waiting.
 */
export const MACHINE_CPU = "machine CPU per task (µs, every process)";

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
  const { leoflow, peers } = await interleavedFanouts(ctx, trials);
  return [...leoflow, ...(await leoflowMappedFanout(ctx, trials)), ...peers, ...(await floors(ctx, trials))];
};

/**
 * One subject of the fan-out (a Leoflow variant and task kind, or a peer and its job), set up once; its trials
 * take turns with every other subject's, so a machine whose speed drifts over the minutes a large fan-out takes
 * slows every subject alike instead of whichever ran last.
 */
interface FanoutSubject {
  trial(t: number): Promise<void>;
  /** Its rows once the trials are done (a subject that cannot run has its skipped rows and no trials). */
  rows(): Row[];
  close(): Promise<void>;
}

/** A subject that cannot run: its rows say why, its trials do nothing. */
const skippedSubject = (rows: Row[]): FanoutSubject => ({ trial: async () => {}, rows: () => rows, close: async () => {} });

/**
 * Leoflow's variants and the peers, all set up first, then round by round: each round runs one trial of every
 * subject, starting one subject later each round. Leoflow's rows first, then the peers', as before.
 */
async function interleavedFanouts(ctx: BenchContext, trials: number): Promise<{ leoflow: Row[]; peers: Row[] }> {
  const leoflow = await leoflowSubjects(ctx);
  const peers: FanoutSubject[] = [];
  try {
    peers.push(...(await peerSubjects(ctx, leoflow.noopBase)));
    const all = [...leoflow.subjects, ...peers];
    for (let t = 0; t < trials; t++) for (let k = 0; k < all.length; k++) await all[(k + t) % all.length]!.trial(t);
    return { leoflow: [...leoflow.skipped, ...leoflow.subjects.flatMap((s) => s.rows())], peers: peers.flatMap((s) => s.rows()) };
  } finally {
    for (const p of peers) await p.close().catch((e) => ctx.log(`fanout: closing a peer failed: ${e}`));
    await leoflow.close();
  }
}

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
          ? async () => void (await (await fetch(`${noop.base}/noop`)).text())
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

/** A subject per started Leoflow variant and task kind (a variant's kinds share its binary). */
async function leoflowSubjects(
  ctx: BenchContext,
): Promise<{ subjects: FanoutSubject[]; skipped: Row[]; noopBase: string; close(): Promise<void> }> {
  const { parallelism } = ctx.opts;
  const variants = await startLeoflowVariants(ctx, {
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
  });
  try {
    for (const { lf } of variants.started)
      await waitForDags(
        lf,
        ctx.opts.kinds.map((k) => `bench_fanout_${k}`),
      );
  } catch (e) {
    await variants.close();
    throw e;
  }
  const subjects = variants.started.flatMap(({ lf, variant }) => ctx.opts.kinds.map((kind) => leoflowSubject(ctx, lf, variant, kind)));
  return { subjects, skipped: variants.skipped, noopBase: variants.noop.base, close: variants.close };
}

/** One Leoflow variant's fan-out of `kind`: a run of N tasks a trial, on its already started binary. */
function leoflowSubject(ctx: BenchContext, lf: Leoflow, variant: LeoflowVariant, kind: TaskKind): FanoutSubject {
  const { parallelism } = ctx.opts;
  const size = sizeOf(ctx, kind);
  const samples: number[] = [];
  const cpu: number[] = [];
  // What the scheduler spent on it: its ticks per 1,000 tasks (a tick per end would be 1,000).
  const ticks: number[] = [];
  return {
    async trial(t) {
      const ticks0 = await ticksSoFar(lf);
      const busy0 = machineBusyMs();
      let busy1: number | null = null;
      const t0 = Date.now();
      const { tis } = await runToEnd(lf, `bench_fanout_${kind}`, `trial-${t}`, 1_800_000, () => (busy1 = machineBusyMs()));
      pushCpu(cpu, busy0, busy1, size);
      const last = Math.max(...tis.map((ti: any) => Date.parse(ti.end_date)));
      ticks.push(((await ticksSoFar(lf)) - ticks0) / (size / 1000));
      samples.push(size / ((last - t0) / 1000));
      ctx.log(`fanout: leoflow ${variant.label} · ${kind} trial ${t}: ${samples.at(-1)!.toFixed(0)} tasks/s`);
    },
    rows() {
      const row: Row = {
        workload: WORKLOAD,
        metric: THROUGHPUT,
        subject: `leoflow ${variant.label} · ${kind}`,
        kind: "leoflow",
        better: "higher",
        samples,
        floor: floorOf(kind, parallelism),
        note: `${size} tasks, parallelism ${parallelism}; ${ticks.map((x) => x.toFixed(0)).join(" / ")} scheduler ticks per 1,000 tasks`,
      };
      return [row, cpuRow(row, cpu)];
    },
    close: async () => {},
  };
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
 * when http tasks are measured, the same jobs each doing a Leoflow http task's work (a GET to the local no-op
 * server Leoflow's http tasks call, its body read), so the table also shows the peers doing the same work per task.
 */
async function peerSubjects(ctx: BenchContext, noopBase: string): Promise<FanoutSubject[]> {
  const jobs: PeerJob[] = [{ label: "", note: "", run: async () => {} }];
  if (ctx.opts.kinds.includes("http"))
    jobs.push({
      label: " · http",
      note: "; each job one local HTTP GET, as an http task",
      run: async () => void (await (await fetch(`${noopBase}/noop`)).text()),
    });
  const subjects: FanoutSubject[] = [];
  try {
    const bullmq: FanoutSubject[] = [];
    for (const job of jobs) {
      bullmq.push(await bullmqSubject(ctx, job));
      subjects.push(bullmq.at(-1)!);
    }
    const graphile = await graphileSubjects(ctx, jobs);
    subjects.push(...graphile);
    // In the table as before: each job's BullMQ row, then its graphile-worker row.
    return jobs.flatMap((_, k) => [bullmq[k]!, graphile[k]!]);
  } catch (e) {
    for (const s of subjects) await s.close().catch(() => {});
    throw e;
  }
}

/** The fields a peer's fan-out row has whatever it measured. */
const peerRow = (peer: "bullmq" | "graphile-worker", job: PeerJob) => ({
  workload: WORKLOAD,
  metric: THROUGHPUT,
  subject: `${peerLabel(peer)}${job.label}`,
  kind: "peer" as const,
  better: "higher" as const,
});

/** A peer's trials: enqueue N jobs in bulk, wait for the last to complete; its rows from the samples. */
function peerSubject(
  ctx: BenchContext,
  name: string,
  completion: Completion,
  enqueue: (from: number, count: number) => Promise<unknown>,
  row: () => Omit<Row, "samples">,
  close: () => Promise<void>,
): FanoutSubject {
  const n = ctx.opts.fanout;
  const samples: number[] = [];
  const cpu: number[] = [];
  return {
    async trial(t) {
      const finished = completion.begin();
      const busy0 = machineBusyMs();
      const t0 = nowMs();
      for (let i = 0; i < n; i += 1000) await enqueue(i, Math.min(1000, n - i));
      await finished;
      samples.push(n / ((nowMs() - t0) / 1000));
      pushCpu(cpu, busy0, machineBusyMs(), n);
      ctx.log(`fanout: ${name} trial ${t}: ${samples.at(-1)!.toFixed(0)} jobs/s`);
    },
    rows() {
      const r: Row = { ...row(), samples };
      return [r, cpuRow(r, cpu)];
    },
    close,
  };
}

async function bullmqSubject(ctx: BenchContext, job: PeerJob): Promise<FanoutSubject> {
  const base = peerRow("bullmq", job);
  if (ctx.skipBullmq)
    return skippedSubject([
      skippedRow(base, ctx.skipBullmq),
      skippedRow({ ...base, metric: MACHINE_CPU, better: "lower" }, ctx.skipBullmq),
    ]);
  const { fanout: n, parallelism } = ctx.opts;
  const { Queue, Worker } = await importPeer("bullmq");
  const connection = { ...REDIS, maxRetriesPerRequest: null };
  const name = `leoflow-bench-fanout-${process.pid}${job.label ? "-http" : ""}`;
  const queue = new Queue(name, { connection });
  const completion = new Completion(n);
  const worker = new Worker(name, async () => (await job.run(), completion.one()), { connection, concurrency: parallelism });
  await worker.waitUntilReady();
  return peerSubject(
    ctx,
    `bullmq${job.label}`,
    completion,
    (from, count) =>
      queue.addBulk(
        Array.from({ length: count }, (_, j) => ({
          name: "noop",
          data: { i: from + j },
          opts: { removeOnComplete: true, removeOnFail: true },
        })),
      ),
    () => ({ ...base, note: `addBulk, worker concurrency ${parallelism}, removeOnComplete${job.note}` }),
    async () => {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    },
  );
}

/**
 * graphile-worker's subjects, one per job, on one runner with a task per job: a second runner in the same
 * process announces its schema's migration on a channel every runner listens to, and the first shuts down.
 */
async function graphileSubjects(ctx: BenchContext, jobs: PeerJob[]): Promise<FanoutSubject[]> {
  const bases = jobs.map((job) => peerRow("graphile-worker", job));
  if (ctx.skipGraphile) {
    const why = ctx.skipGraphile;
    return bases.map((base) => skippedSubject([skippedRow(base, why), skippedRow({ ...base, metric: MACHINE_CPU, better: "lower" }, why)]));
  }
  const { fanout: n, parallelism } = ctx.opts;
  const gw = await importPeer("graphile-worker");
  const schema = ctx.pg!.schema();
  const completions = jobs.map(() => new Completion(n));
  const task = (k: number) => `noop${k}`;
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
    taskList: Object.fromEntries(jobs.map((job, k) => [task(k), async () => (await job.run(), completions[k]!.one())])),
  });
  const utils = await gw.makeWorkerUtils({ connectionString: ctx.pg!.url, schema, logger });
  let open = jobs.length;
  /** The runner stops with the last of its subjects. */
  const close = async () => {
    if (--open > 0) return;
    await utils.release();
    await runner.stop();
  };
  return jobs.map((job, k) =>
    peerSubject(
      ctx,
      `graphile-worker${job.label}`,
      completions[k]!,
      (from, count) => utils.addJobs(Array.from({ length: count }, (_, j) => ({ identifier: task(k), payload: { i: from + j } }))),
      () => ({
        ...bases[k]!,
        note: `addJobs, concurrency ${parallelism}, localQueue ${parallelism + 1}, completeJobBatchDelay 0${job.note}`,
      }),
      close,
    ),
  );
}
