/** The dispatch buffer's gauges for /metrics, read from its counters at scrape time. */
import type { Metrics } from "../observability";
import type { DispatchMetrics } from "./buffered";

export function registerDispatchMetrics(metrics: Metrics, buffered: { metrics(): DispatchMetrics }): void {
  const d = () => buffered.metrics();
  metrics.gauge("leoflow_dispatch_queue_depth", "Launches waiting in the dispatch buffer.", () => d().queue_depth);
  metrics.gauge("leoflow_dispatch_in_flight", "Launches a dispatch worker is running.", () => d().in_flight);
  metrics.gauge(
    "leoflow_dispatch_at_capacity_total",
    "Launches refused by a full dispatch buffer (left scheduled).",
    () => d().at_capacity_total,
    "counter",
  );
  metrics.gauge("leoflow_dispatch_inner_errors_total", "Launches the executor failed.", () => d().inner_errors_total, "counter");
  metrics.gauge(
    "leoflow_dispatch_latency_seconds_sum",
    "Total time spent launching task instances.",
    () => d().latency_seconds.sum,
    "counter",
  );
  metrics.gauge("leoflow_dispatch_latency_seconds_count", "Task instance launches timed.", () => d().latency_seconds.count, "counter");
}
