/** Lifecycle events: the non-blocking hub, the store wrapper that emits them, and the SSE endpoint. */
export * from "./types";
export { EventHub, Subscription, DEFAULT_SUBSCRIBER_BUFFER, type SubscribeOptions } from "./emitter";
export { withStoreEvents } from "./store-events";
export { LocalWakeBus, PgWakeBus, WAKE_CHANNEL, parseWakePayload, wakeChannelFor, type WakeBus, type WakeHandler } from "./wake-bus";
export { eventRoutes, sseStream, matchesEventFilter, formatSse, EVENTS_PATH, type EventFilter } from "./sse";
