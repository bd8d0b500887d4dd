/**
 * Two teams' fan-outs at once: the http fan-out's N tasks split between two teams (`--dags-folder-layout=teams`),
 * each half in its team's own pool of half the --parallelism slots, triggered together, the server's parallelism
 * twice that. The teams take turns in the fair order (capacity.ts), so a freed slot's next task is often the other
 * team's: the row shows how freed slots pass on when they must skip over it. Tasks completed per second, both
 * runs together, from the triggers to the last task's end.
 */
import type { BenchContext } from "../lib/context";
import { waitFor, type Leoflow } from "../lib/leoflow";
import { eachLeoflowVariant } from "../lib/leoflow-workload";
import type { Row } from "../lib/stats";
import { THROUGHPUT } from "./fanout";
import { timedTrials } from "./fanout-pooled";

const WORKLOAD = "fanout";
const TEAMS = ["alpha", "beta"] as const;
const POOL = "bench_pool";
const dagId = (team: string) => `bench_fanout_${team}`;

function teamDag(team: string, n: number, base: string) {
  return {
    team,
    dag_id: dagId(team),
    max_active_runs: 1,
    max_active_tasks: n,
    tasks: Array.from({ length: n }, (_, i) => ({ task_id: `t${i}`, operator: "http", http: { url: `${base}/noop` }, pool: POOL })),
  };
}

/** Both teams' runs `runId`, triggered together and waited for; the rate over both, and when each ended. */
async function bothRuns(lf: Leoflow, runId: string, tasks: number): Promise<number> {
  const t0 = Date.now();
  const ends = await Promise.all(
    TEAMS.map(async (team) => {
      const q = `?team=${team}`;
      const t = await lf.api("POST", `/api/v2/dags/${dagId(team)}/dagRuns${q}`, { dag_run_id: runId, logical_date: null });
      if (t.status !== 200) throw new Error(`trigger ${team}/${dagId(team)} failed: ${t.status} ${JSON.stringify(t.body)}`);
      const waited = await lf.api<string>("GET", `/api/v2/dags/${dagId(team)}/dagRuns/${runId}/wait${q}&interval=0.025`);
      const body: unknown = waited.body;
      const last = typeof body === "string" ? JSON.parse(body.trim().split("\n").at(-1)!) : body;
      if ((last as { state?: string } | null)?.state !== "success")
        throw new Error(`run ${team}/${runId} did not succeed: ${JSON.stringify(last)}\n${lf.output().slice(-3000)}`);
      const run = await lf.api("GET", `/api/v2/dags/${dagId(team)}/dagRuns/${runId}${q}`);
      return Date.parse(run.body.end_date);
    }),
  );
  return tasks / ((Math.max(...ends) - t0) / 1000);
}

export async function leoflowTeamsFanout(ctx: BenchContext, trials: number): Promise<Row[]> {
  if (!ctx.opts.kinds.includes("http")) return [];
  const { fanout: n, parallelism } = ctx.opts;
  const perTeam = Math.max(1, Math.floor(n / 2));
  const slots = Math.max(1, Math.floor(parallelism / 2));
  const room = 2 * parallelism;
  const subject = (label: string) => `leoflow ${label} · http, two teams each in a pool of ${slots}`;
  return eachLeoflowVariant(ctx, {
    workload: WORKLOAD,
    skipped: (label) => [
      { workload: WORKLOAD, metric: THROUGHPUT, subject: subject(label), kind: "leoflow" as const, better: "higher" as const },
    ],
    dags: (base) => TEAMS.map((team) => teamDag(team, perTeam, base)),
    extraArgs: ["--dags-folder-layout=teams", `--parallelism=${room}`, `--inline-concurrency=${room}`],
    logSuffix: " (two teams)",
    measure: async (lf, variant) => {
      for (const team of TEAMS) {
        const made = await lf.api("POST", `/api/v2/pools?team=${team}`, {
          name: POOL,
          slots,
          description: "bench",
          include_deferred: false,
        });
        if (made.status !== 201) throw new Error(`creating pool ${team}/${POOL} failed: ${made.status} ${JSON.stringify(made.body)}`);
        await waitFor(
          async () => (await lf.api("GET", `/api/v2/dags/${dagId(team)}?team=${team}`)).status === 200,
          30_000,
          () => `DAG ${team}/${dagId(team)} never loaded:\n${lf.output().slice(-3000)}`,
          50,
        );
      }
      const { samples, ticks } = await timedTrials(ctx, lf, trials, 2 * perTeam, `${variant.label} · two teams`, (runId) =>
        bothRuns(lf, runId, 2 * perTeam),
      );
      return [
        {
          workload: WORKLOAD,
          metric: THROUGHPUT,
          subject: subject(variant.label),
          kind: "leoflow",
          better: "higher",
          samples,
          note: `${perTeam} tasks in each of two teams, each team's in its own pool of ${slots} slots, parallelism ${room}; ${ticks} scheduler ticks per 1,000 tasks`,
        },
      ];
    },
  });
}
