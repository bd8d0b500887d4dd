/** Executors: the interface, the router and the concrete executors. */
export * from "./executor";
export * from "./router";
export * from "./subprocess";
