/** Executors: the interface, the router and the concrete executors. */
export * from "./executor";
export * from "./router";
export * from "./subprocess";
export * from "./docker";
export * from "./inline-http";
export * from "./inline-runner";
export { buildHttpCall, baseUrl, safeUrl, safeText, type BuiltCall } from "./inline-request";
export * from "./templating";
export { stopProcessGroup, groupAlive, parseProcStat } from "./process-group";
