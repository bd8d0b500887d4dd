/** The pure domain: DAG schema, states, transitions, trigger rules, schedules, errors. No I/O. */
export * from "./states";
export * from "./errors";
export * from "./dag-spec";
export * from "./trigger-rule-names";
export * from "./schedule";
export * from "./transitions";
export * from "./trigger-rules";
export * from "./secrets";
export * from "./json-safety";
export * from "./task-env";
export * from "./secrets-key";
export * from "./records";
