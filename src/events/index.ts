/** Lifecycle events: the non-blocking hub, the store wrapper that emits them, the event log and the SSE endpoint. */
export type { LeoflowEvent, NewEvent, EventSink, EventHistory } from "./types";
export { EventHub, Subscription, DEFAULT_SUBSCRIBER_BUFFER, type SubscribeOptions } from "./emitter";
export { withStoreEvents } from "./store-events";
export { RunEnds } from "./run-ends";
export {
  LocalWakeBus,
  PgWakeBus,
  WAKE_CHANNEL,
  channelFor,
  parseWakePayload,
  wakeChannelFor,
  type WakeBus,
  type WakeHandler,
} from "./wake-bus";
export { eventRoutes, sseStream, matchesEventFilter, formatSse, EVENTS_PATH, type EventFilter, type StreamResume } from "./sse";
export { EventLog, storeEventHistory, EVENT_APPEND_BATCH, EVENT_MAX_PENDING, type AppendedEvent, type EventLogOptions } from "./event-log";
export { EventFeed, type EventFeedOptions } from "./feed";
export { LocalEventNotifier, PgEventNotifier, EVENTS_CHANNEL, parseEventsPayload, type EventNotifier } from "./event-notifier";
export { StreamCursor, parseLastEventId, REPLAY_PAGE } from "./resume";
export { registerEventMetrics, type EventLogCounts } from "./metrics";
export { registerTaskMetrics, observeTransition, type TaskObservation } from "./task-metrics";
export type { TransitionObserver } from "./store-events";
export { createServerEvents, DEFAULT_EVENT_RETENTION, type EventRetention, type ServerEvents } from "./server-events";
export { WebhookDeliverer, WEBHOOK_INTEREST_REFRESH_MS, WEBHOOK_PRUNE_BATCH, type WebhookDelivererOptions } from "./webhook-delivery";
export { signWebhook, verifyWebhook, SIGNATURE_PREFIX, DEFAULT_REPLAY_WINDOW_S } from "./webhook-signature";
export { webhookEventSink, SINK_WEBHOOK_EVENTS } from "./webhook-sink";
export { webhookChangeRelay, type WebhookChangeRelay } from "./webhook-changes";
