/**
 * Log-heavy tasks: a bash task printing N lines (`seq 1 N`, default 100,000) on each variant, timed from its
 * start to its end (the agent ships the lines in batches and the try ends only once they are stored), then its
 * whole log read back over the API (`full_content=true`). The floor is the same command run directly with its
 * output read by this process. States the cost of a task's logging, the store's share of it in particular.
 */
import type { BenchContext, Workload } from "../lib/context";
import { runToEnd, waitForDags } from "../lib/leoflow";
import { eachLeoflowVariant } from "../lib/leoflow-workload";
import type { Row } from "../lib/stats";
import { nowMs } from "./chain";

const WORKLOAD = "logs";
const DAG_ID = "bench_logs";

export const logsWorkload: Workload = async (ctx: BenchContext) => {
  const lines = ctx.opts.logLines;
  const trials = ctx.opts.trials ?? 3;
  const RUN = `bash task printing ${lines} lines: start → end (ms)`;
  const READ = `its whole log read over the API, full_content (ms)`;
  const rows: Row[] = [];
  rows.push(
    ...(await eachLeoflowVariant(ctx, {
      workload: WORKLOAD,
      skipped: (label) =>
        [RUN, READ].map((metric) => ({
          workload: WORKLOAD,
          metric,
          subject: `leoflow ${label}`,
          kind: "leoflow" as const,
          better: "lower" as const,
        })),
      dags: () => [{ dag_id: DAG_ID, tasks: [{ task_id: "talk", operator: "bash", bash_command: `seq 1 ${lines}` }] }],
      measure: async (lf, variant) => {
        await waitForDags(lf, [DAG_ID]);
        const runs: number[] = [];
        const reads: number[] = [];
        // Trial 0 warms up (first spawn, connection pools, JIT) and is not counted.
        for (let t = 0; t <= trials; t++) {
          const { tis } = await runToEnd(lf, DAG_ID, `trial-${t}`);
          const ti = tis[0];
          const s = nowMs();
          const log = await lf.api("GET", `/api/v2/dags/${DAG_ID}/dagRuns/trial-${t}/taskInstances/talk/logs/1?full_content=true`);
          const readMs = nowMs() - s;
          const got = (log.body?.content ?? []).length;
          if (log.status !== 200 || got < lines)
            throw new Error(`logs: expected ${lines} lines or more back, got ${got} (HTTP ${log.status})`);
          if (t === 0) continue;
          runs.push(Date.parse(ti.end_date) - Date.parse(ti.start_date));
          reads.push(readMs);
        }
        const subject = `leoflow ${variant.label}`;
        return [
          { workload: WORKLOAD, metric: RUN, subject, kind: "leoflow", better: "lower", samples: runs, floor: FLOOR },
          { workload: WORKLOAD, metric: READ, subject, kind: "leoflow", better: "lower", samples: reads },
        ];
      },
    })),
  );
  ctx.log("logs: floor");
  const floor: number[] = [];
  for (let t = 0; t <= trials; t++) {
    const s = nowMs();
    const proc = Bun.spawn(["bash", "-c", `seq 1 ${lines}`], { stdout: "pipe" });
    await new Response(proc.stdout).text();
    await proc.exited;
    if (t > 0) floor.push(nowMs() - s);
  }
  rows.push({
    workload: WORKLOAD,
    metric: RUN,
    subject: FLOOR,
    kind: "floor",
    better: "lower",
    samples: floor,
    note: "the command alone, its output read by the bench",
  });
  return rows;
};

const FLOOR = "bash -c 'seq 1 N' alone";
