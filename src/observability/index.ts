/** Logging, metrics and health. */
export { createLogger, silentLogger, type Logger } from "./logger";
export { formatLabels, METRICS_CONTENT_TYPE, Metrics, type Labels, type Counter } from "./metrics";
