/** Logging, metrics and health. */
export { configureLogging, createLogger, silentLogger, type Logger } from "./logger";
export { startSystemdNotify, type SystemdNotify } from "./sd-notify";
export { formatLabels, METRICS_CONTENT_TYPE, Metrics, type Labels, type Counter } from "./metrics";
