/** Dispatch: resolving, token minting and routing of queued task instances. */
export * from "./dispatcher";
export * from "./buffered";
export * from "./retry-policy";
export { tokenGraceSeconds, agentTokenLifetime, type TokenTtlPolicy } from "./token-ttl";
