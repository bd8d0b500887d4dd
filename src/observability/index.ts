/** Logging, metrics and health. */
export { configureLogging, createLogger, silentLogger, type Logger } from "./logger";
export { startSystemdNotify, type SystemdNotify } from "./sd-notify";
export { DEFAULT_SECONDS_BUCKETS, formatLabels, METRICS_CONTENT_TYPE, Metrics, type Labels, type Counter, type Histogram } from "./metrics";
export { webhookDeliveries } from "./webhook-metrics";
