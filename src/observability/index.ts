/** Logging, metrics and health. */
export * from "./logger";
