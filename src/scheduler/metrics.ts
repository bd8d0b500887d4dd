/**
 * The scheduler's series for /metrics: leadership, health, tick duration and decisions, and the deployment's
 * runs by state and pool slots (read from the store before a scrape, at most every STATE_GAUGES_TTL_MS).
 */
import { occupiedSlots, type DagRunState, type PoolRecord } from "../domain";
import type { Metrics } from "../observability";
import type { DagsQueryStore, PoolsApiStore, TeamStore } from "../store";
import type { LeaderCampaign } from "./leader-campaign";
import type { TickReport } from "./loop";

/** Runs and pools are counted over the whole store: at most this often, whatever the scrape interval. */
export const STATE_GAUGES_TTL_MS = 10_000;

export function registerSchedulerMetrics(
  metrics: Metrics,
  loop: { health(): { status: "healthy" | "unhealthy" }; readonly handOffs: number },
  campaign: Pick<LeaderCampaign, "isLeader" | "stats"> | null,
): { onTick(report: TickReport): void } {
  if (campaign) {
    metrics.gauge("leoflow_scheduler_leader", "1 while this replica leads the scheduler, else 0.", () => (campaign.isLeader ? 1 : 0));
    metrics.gauge(
      "leoflow_scheduler_step_downs_total",
      "Leader step-downs, by reason (lock_lost, check_failed, shutdown).",
      () => Object.entries(campaign.stats().step_downs).map(([reason, n]) => [{ reason }, n]),
      "counter",
    );
    metrics.gauge(
      "leoflow_scheduler_reacquire_seconds",
      "Time without leadership of the last step-down → re-acquire cycle.",
      () => (campaign.stats().last_reacquire_ms ?? 0) / 1000,
    );
  }
  // In Lite the one process always leads; the same series in both modes lets one dashboard serve both.
  metrics.gauge("leoflow_leader", "1 while this process runs the scheduler (always in Lite), else 0.", () =>
    !campaign || campaign.isLeader ? 1 : 0,
  );
  metrics.gauge("leoflow_scheduler_healthy", "1 while the scheduler ticks on time (or does not lead), else 0.", () =>
    loop.health().status === "healthy" ? 1 : 0,
  );
  metrics.gauge(
    "leoflow_scheduler_chain_handoffs_total",
    "Chain tasks run by agents that were queued and launched by their upstream's report of success, without a tick.",
    () => loop.handOffs,
    "counter",
  );
  const tick = metrics.histogram(
    "leoflow_scheduler_tick_duration_seconds",
    "Wall time of one scheduler tick.",
    [],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  const decisions = metrics.counter(
    "leoflow_scheduler_decisions_total",
    "What ticks decided: task state transitions written (transition) and task instances handed to executors (dispatch).",
    ["decision"],
  );
  return {
    onTick(report) {
      tick.observe({}, report.durationMs / 1000);
      if (report.transitions) decisions.inc({ decision: "transition" }, report.transitions);
      if (report.dispatched) decisions.inc({ decision: "dispatch" }, report.dispatched);
    },
  };
}

type StateStore = Pick<TeamStore, "listTeams"> & Pick<DagsQueryStore, "countDagRunStates"> & Pick<PoolsApiStore, "listPools">;

/** leoflow_dag_runs{state} and leoflow_pool_slots{team,pool,state=used|open}, refreshed before a scrape. */
export function registerStateGauges(metrics: Metrics, store: StateStore, now: () => number = Date.now): void {
  let runs = new Map<DagRunState, number>();
  let pools: PoolRecord[] = [];
  let readAt = Number.NEGATIVE_INFINITY;
  metrics.beforeScrape(async () => {
    if (now() - readAt < STATE_GAUGES_TTL_MS) return;
    readAt = now();
    const nextRuns = new Map<DagRunState, number>();
    const nextPools: PoolRecord[] = [];
    for (const team of await store.listTeams()) {
      for (const c of await store.countDagRunStates(team.name)) nextRuns.set(c.state, (nextRuns.get(c.state) ?? 0) + c.count);
      nextPools.push(...(await store.listPools(team.name, { limit: 10_000 })).items);
    }
    runs = nextRuns;
    pools = nextPools;
  });
  metrics.gauge("leoflow_dag_runs", "DAG runs in the store, by state.", () => [...runs].map(([state, n]) => [{ state }, n]));
  metrics.gauge(
    "leoflow_pool_slots",
    "Pool slots used (running + queued, + deferred with include_deferred) and open, by team and pool; unlimited pools have no open.",
    () =>
      pools.flatMap((p) => {
        const used = occupiedSlots(p);
        const series: [Record<string, string>, number][] = [[{ team: p.team, pool: p.name, state: "used" }, used]];
        if (p.slots >= 0) series.push([{ team: p.team, pool: p.name, state: "open" }, Math.max(0, p.slots - used)]);
        return series;
      }),
  );
}
