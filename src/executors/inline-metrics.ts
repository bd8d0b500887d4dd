/** The inline runner's counters for /metrics, read at scrape time. */
import type { Metrics } from "../observability";
import type { InlineWriteFailures } from "./inline-runner";

/** `inline`: the runner, whose `metrics` counts each outcome (started, succeeded, …). */
export function registerInlineMetrics<M extends { [K in keyof M]: number }>(
  metrics: Metrics,
  inline: { readonly metrics: M; readonly inFlight: number; readonly writeFailures: InlineWriteFailures },
): void {
  metrics.gauge(
    "leoflow_inline_tasks_total",
    "Inline http task starts and outcomes (started, succeeded, failed, busy, rejected).",
    () => Object.entries(inline.metrics).map(([outcome, n]): [{ outcome: string }, number] => [{ outcome }, n as number]),
    "counter",
  );
  metrics.gauge("leoflow_inline_tasks_running", "Inline http tasks in flight.", () => inline.inFlight);
  metrics.gauge(
    "leoflow_inline_requests_in_flight",
    "Inline http requests in flight (same as leoflow_inline_tasks_running, the older name).",
    () => inline.inFlight,
  );
  metrics.gauge(
    "leoflow_inline_store_write_failures_total",
    "Store writes of inline http tasks that failed, by write (log_line, heartbeat, outcome); each is logged with its task.",
    () => Object.entries(inline.writeFailures).map(([write, n]): [{ write: string }, number] => [{ write }, n]),
    "counter",
  );
}
