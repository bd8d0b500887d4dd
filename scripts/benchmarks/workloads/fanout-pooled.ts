/**
 * Pooled fan-out: the http fan-out of fanout.ts held back by a pool instead of by parallelism. Its tasks are in a
 * pool of --parallelism slots while the server's parallelism (and the DAG's max_active_tasks) leave room, so every
 * waiting task waits for the pool, as Airflow's pools are used to cap the load on a resource. The same tasks at the
 * same concurrency as the plain http row: the two rows compare how freed slots pass on under either limit. Tasks
 * completed per second, from the trigger to the last task's end.
 */
import type { BenchContext } from "../lib/context";
import { runToEnd, ticksSoFar, waitForDags, type Leoflow } from "../lib/leoflow";
import { eachLeoflowVariant } from "../lib/leoflow-workload";
import type { Row } from "../lib/stats";
import { rateRow, tasksPerSecond } from "./fanout";

const WORKLOAD = "fanout";

const DAG_ID = "bench_fanout_pooled";
const POOL = "bench_pool";

/** DAG `dagId`: the http fan-out's `n` tasks in the bench's pool, its max_active_tasks leaving the pool the limit. */
export function pooledDag(dagId: string, n: number, base: string) {
  return {
    dag_id: dagId,
    max_active_runs: 1,
    max_active_tasks: n,
    tasks: Array.from({ length: n }, (_, i) => ({ task_id: `t${i}`, operator: "http", http: { url: `${base}/noop` }, pool: POOL })),
  };
}

/** Creates the bench's pool with `slots` slots, in `team` when given (else the caller's own). */
export async function createBenchPool(lf: Leoflow, slots: number, team?: string): Promise<void> {
  const path = team ? `/api/v2/pools?team=${team}` : "/api/v2/pools";
  const made = await lf.api("POST", path, { name: POOL, slots, description: "bench", include_deferred: false });
  if (made.status !== 201)
    throw new Error(`creating pool ${team ?? "default"}/${POOL} failed: ${made.status} ${JSON.stringify(made.body)}`);
}

export async function leoflowPooledFanout(ctx: BenchContext, trials: number): Promise<Row[]> {
  if (!ctx.opts.kinds.includes("http")) return [];
  const { fanout: n, parallelism } = ctx.opts;
  // Room beyond the pool: parallelism and inline concurrency twice its slots.
  const room = 2 * parallelism;
  const subject = (label: string) => `leoflow ${label} · http, in a pool of ${parallelism}`;
  return eachLeoflowVariant(ctx, {
    workload: WORKLOAD,
    skipped: (label) => [rateRow(subject(label))],
    dags: (base) => [pooledDag(DAG_ID, n, base)],
    extraArgs: [`--parallelism=${room}`, `--inline-concurrency=${room}`],
    logSuffix: " (pooled)",
    measure: async (lf, variant) => {
      await createBenchPool(lf, parallelism);
      await waitForDags(lf, [DAG_ID]);
      const { samples, ticks } = await timedTrials(ctx, lf, trials, n, `${variant.label} · pooled`, async (runId) => {
        const t0 = Date.now();
        return tasksPerSecond((await runToEnd(lf, DAG_ID, runId, 1_800_000)).tis, t0);
      });
      return [
        {
          ...rateRow(subject(variant.label)),
          samples,
          note: `${n} tasks in a pool of ${parallelism} slots, parallelism ${room}; ${ticks} scheduler ticks per 1,000 tasks`,
        },
      ];
    },
  });
}

/**
 * A fan-out row's trials on one server: untimed runs first (--warmup), as for the plain fan-out rows it is compared
 * with, then `trials` timed ones; `once` runs one (its run id given) and answers its tasks per second. The samples,
 * and the scheduler's ticks per 1,000 of the `tasks` a trial completes, as a note's text.
 */
export async function timedTrials(
  ctx: BenchContext,
  lf: Leoflow,
  trials: number,
  tasks: number,
  label: string,
  once: (runId: string) => Promise<number>,
): Promise<{ samples: number[]; ticks: string }> {
  const samples: number[] = [];
  const ticks: number[] = [];
  for (let t = -ctx.opts.warmup; t < trials; t++) {
    const ticks0 = await ticksSoFar(lf);
    const rate = await once(t < 0 ? `warmup${t}` : `trial-${t}`);
    ctx.log(`fanout: leoflow ${label} ${t < 0 ? "warm-up (untimed)" : `trial ${t}`}: ${rate.toFixed(0)} tasks/s`);
    if (t < 0) continue;
    samples.push(rate);
    ticks.push(((await ticksSoFar(lf)) - ticks0) / (tasks / 1000));
  }
  return { samples, ticks: ticks.map((x) => x.toFixed(0)).join(" / ") };
}
