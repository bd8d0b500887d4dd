/** The event log's and the hub's counters for /metrics, read at scrape time. */
import type { Metrics } from "../observability";

export interface EventLogCounts {
  emitted: number;
  appended: number;
  failures: number;
  lost: number;
}

export function registerEventMetrics(metrics: Metrics, log: EventLogCounts, hub: { dropped: number; subscriberCount: number }): void {
  metrics.gauge("leoflow_events_emitted_total", "Lifecycle events emitted on this replica since start.", () => log.emitted, "counter");
  metrics.gauge("leoflow_events_appended_total", "Lifecycle events this replica appended to the event log.", () => log.appended, "counter");
  metrics.gauge("leoflow_events_append_failures_total", "Failed appends to the event log (each retried).", () => log.failures, "counter");
  metrics.gauge(
    "leoflow_events_lost_total",
    "Lifecycle events never appended (the event log refused them too long).",
    () => log.lost,
    "counter",
  );
  metrics.gauge("leoflow_events_dropped_total", "Lifecycle events lost by subscribers that fell behind.", () => hub.dropped, "counter");
  metrics.gauge("leoflow_event_subscribers", "Open event streams.", () => hub.subscriberCount);
}
