/**
 * Two teams' fan-outs at once: the http fan-out's N tasks split between two teams (`--dags-folder-layout=teams`),
 * triggered together, held back two ways, a row each: each half in its team's own pool of half the --parallelism
 * slots (the server's parallelism twice that), and both teams at --parallelism (pools as large). The teams take turns
 * in the fair order (capacity.ts), so a freed slot's next task is often the other team's: the rows show how freed
 * slots pass on when they must skip over it. Tasks completed per second, both runs together, from the triggers to
 * the last task's end.
 */
import type { BenchContext } from "../lib/context";
import { runToEnd, waitForDags, type Leoflow } from "../lib/leoflow";
import { eachLeoflowVariant } from "../lib/leoflow-workload";
import type { Row } from "../lib/stats";
import { rateRow, tasksPerSecond } from "./fanout";
import { createBenchPool, pooledDag, timedTrials } from "./fanout-pooled";

const WORKLOAD = "fanout";

const TEAMS = ["alpha", "beta"] as const;
const dagId = (team: string) => `bench_fanout_${team}`;

/** Both teams' runs `runId`, triggered together and waited for: their tasks per second, from the triggers to the last end. */
async function bothRuns(lf: Leoflow, runId: string): Promise<number> {
  const t0 = Date.now();
  const runs = await Promise.all(TEAMS.map((team) => runToEnd(lf, dagId(team), runId, 1_800_000, undefined, team)));
  return tasksPerSecond(
    runs.flatMap((r) => r.tis),
    t0,
  );
}

/** How the two teams' fan-outs are held back: each by its own pool of half the slots, or both by parallelism. */
type HeldBy = "pools" | "parallelism";

export async function leoflowTeamsFanout(ctx: BenchContext, trials: number): Promise<Row[]> {
  return [...(await teamsFanout(ctx, trials, "pools")), ...(await teamsFanout(ctx, trials, "parallelism"))];
}

async function teamsFanout(ctx: BenchContext, trials: number, heldBy: HeldBy): Promise<Row[]> {
  if (!ctx.opts.kinds.includes("http")) return [];
  const { fanout: n, parallelism } = ctx.opts;
  const perTeam = Math.max(1, Math.floor(n / 2));
  const slots = heldBy === "pools" ? Math.max(1, Math.floor(parallelism / 2)) : parallelism;
  const room = heldBy === "pools" ? 2 * parallelism : parallelism;
  const shape = heldBy === "pools" ? `two teams each in a pool of ${slots}` : `two teams at parallelism ${room}`;
  const subject = (label: string) => `leoflow ${label} · http, ${shape}`;
  return eachLeoflowVariant(ctx, {
    workload: WORKLOAD,
    skipped: (label) => [rateRow(subject(label))],
    dags: (base) => TEAMS.map((team) => ({ team, ...pooledDag(dagId(team), perTeam, base) })),
    extraArgs: ["--dags-folder-layout=teams", `--parallelism=${room}`, `--inline-concurrency=${room}`],
    logSuffix: ` (${shape})`,
    measure: async (lf, variant) => {
      for (const team of TEAMS) {
        await createBenchPool(lf, slots, team);
        await waitForDags(lf, [dagId(team)], team);
      }
      const { samples, ticks } = await timedTrials(ctx, lf, trials, 2 * perTeam, `${variant.label} · ${shape}`, (runId) =>
        bothRuns(lf, runId),
      );
      const held =
        heldBy === "pools"
          ? `each team's in its own pool of ${slots} slots, parallelism ${room}`
          : `both teams held back by parallelism ${room}`;
      return [
        {
          ...rateRow(subject(variant.label)),
          samples,
          note: `${perTeam} tasks in each of two teams, ${held}; ${ticks} scheduler ticks per 1,000 tasks`,
        },
      ];
    },
  });
}
