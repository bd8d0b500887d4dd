/** Logging, metrics and health. */
export * from "./logger";
export * from "./metrics";
