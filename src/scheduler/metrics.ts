/** The scheduler's gauges for /metrics: leadership (Pro only, when there is a campaign) and health. */
import type { Metrics } from "../observability";
import type { LeaderCampaign } from "./leader-campaign";

export function registerSchedulerMetrics(
  metrics: Metrics,
  loop: { health(): { status: "healthy" | "unhealthy" } },
  campaign: Pick<LeaderCampaign, "isLeader" | "stats"> | null,
): void {
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
  metrics.gauge("leoflow_scheduler_healthy", "1 while the scheduler ticks on time (or does not lead), else 0.", () =>
    loop.health().status === "healthy" ? 1 : 0,
  );
}
