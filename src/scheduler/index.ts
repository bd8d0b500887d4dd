/** The scheduler: the pure planning core (planner, retries, priority, capacity, reaper rules) and its loop. */
export * from "./planner";
export * from "./retry";
export * from "./priority";
export * from "./capacity";
export * from "./reaper-rules";
export * from "./trigger";
export * from "./loop";
