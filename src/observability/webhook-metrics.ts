/**
 * The one definition of leoflow_webhook_deliveries_total, so the webhook sender and the dashboards agree on
 * its name and labels. Memoized per Metrics: whoever asks first registers it, everyone gets the same counter.
 *
 * @example webhookDeliveries(metrics).inc({ result: "delivered" }); // or "failed", "gave_up"
 */
import type { Counter, Metrics } from "./metrics";

const counters = new WeakMap<Metrics, Counter>();

export function webhookDeliveries(metrics: Metrics): Counter {
  let c = counters.get(metrics);
  if (!c) {
    c = metrics.counter("leoflow_webhook_deliveries_total", "Webhook delivery attempts, by result (delivered, failed, gave_up).", [
      "result",
    ]);
    counters.set(metrics, c);
  }
  return c;
}
