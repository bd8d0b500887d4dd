/**
 * Events that are not a store write's own (a dead-lettered launch, a failed callback) reach webhooks through this sink: it passes every event on to `inner` (the event log) and queues these
 * types in the outbox at once. Run and task state changes are not queued here: the store writes theirs in
 * the transaction of the change (ports/webhooks.ts). Queueing is off the caller's path and never throws.
 *
 * @example const sink = webhookEventSink(eventLog.log, store, (e) => log.warn("queueing a webhook event failed", { error: e }));
 */
import type { WebhookStore } from "../store";
import type { EventSink, NewEvent } from "./types";

/**
 * Event types queued by this sink, as they are emitted: dead letters (dispatch) and the callback runner's
 * missed deadlines and failed callbacks. The others are queued where they happen: state changes and import
 * errors by the store, in the transaction of the write; leader changes by the delivery worker.
 */
export const SINK_WEBHOOK_EVENTS: ReadonlySet<string> = new Set([
  "task_instance.dead_lettered",
  "dag_run.deadline_missed",
  "callback.failed",
]);

export function webhookEventSink(
  inner: EventSink,
  store: Pick<WebhookStore, "enqueueWebhookEvents">,
  onError: (e: unknown) => void,
  now: () => Date = () => new Date(),
): EventSink {
  return {
    get wanted() {
      return inner.wanted ?? true;
    },
    emit(event: NewEvent) {
      inner.emit(event);
      if (!SINK_WEBHOOK_EVENTS.has(event.type)) return;
      const at = now();
      void store.enqueueWebhookEvents([{ ...event, time: event.time ?? at.toISOString() }], at).catch(onError);
    },
  };
}
