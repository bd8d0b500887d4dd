/**
 * Mapped fan-out: the bash fan-out of fanout.ts written as one mapped task (`expand` over an upstream's list
 * of N items) instead of N tasks, so the two rows compare the cost of the expansion (one batched write of N
 * task instances, then the same dispatch) with declaring the tasks up front. Tasks completed per second, from
 * the trigger to the last instance's end.
 */
import type { BenchContext } from "../lib/context";
import { runToEnd, waitForDags } from "../lib/leoflow";
import { eachLeoflowVariant } from "../lib/leoflow-workload";
import type { Row } from "../lib/stats";
import { rateRow, tasksPerSecond } from "./fanout";
import { timedTrials } from "./fanout-pooled";

const WORKLOAD = "fanout";

const DAG_ID = "bench_fanout_mapped";

function mappedDag(n: number, parallelism: number) {
  return {
    dag_id: DAG_ID,
    max_active_runs: 1,
    max_active_tasks: parallelism,
    tasks: [
      { task_id: "make", operator: "bash", bash_command: `seq -s, 0 ${n - 1} | sed 's/.*/[&]/' > "$LEOFLOW_RETURN_VALUE_PATH"` },
      { task_id: "each", operator: "bash", bash_command: "true", expand: { i: { xcom: "make" } } },
    ],
  };
}

export async function leoflowMappedFanout(ctx: BenchContext, trials: number): Promise<Row[]> {
  if (!ctx.opts.kinds.includes("bash")) return [];
  const { fanoutBash: n, parallelism } = ctx.opts;
  const subject = (label: string) => `leoflow ${label} · bash, one mapped task`;
  return eachLeoflowVariant(ctx, {
    workload: WORKLOAD,
    skipped: (label) => [rateRow(subject(label))],
    dags: () => [mappedDag(n, parallelism)],
    extraArgs: [`--parallelism=${parallelism}`, `--max-map-length=${Math.max(1024, n)}`],
    logSuffix: " (mapped)",
    measure: async (lf, variant) => {
      await waitForDags(lf, [DAG_ID]);
      const { samples } = await timedTrials(ctx, lf, trials, n, `${variant.label} · mapped`, async (runId) => {
        const t0 = Date.now();
        const { tis } = await runToEnd(lf, DAG_ID, runId, 1_800_000);
        const each = tis.filter((ti: any) => ti.task_id === "each");
        if (each.length !== n) throw new Error(`${DAG_ID}: expected ${n} mapped instances, found ${each.length}`);
        return tasksPerSecond(each, t0);
      });
      return [{ ...rateRow(subject(variant.label)), samples, note: `${n} instances of one mapped task, parallelism ${parallelism}` }];
    },
  });
}
