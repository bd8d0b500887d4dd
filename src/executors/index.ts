/** Executors: the interface, the router and the concrete executors. */
export * from "./executor";
