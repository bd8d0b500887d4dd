/** Dispatch: resolving, token minting and routing of queued task instances. */
export { DAG_FILE_CACHE_MS, Dispatcher, type DispatchDeps, type TaskDispatcher } from "./dispatcher";
export { AtCapacityError, BufferedDispatcher, type BufferedDispatcherOptions, type DispatchMetrics } from "./buffered";
export {
  dispatchBackoffMs,
  decideDispatchFailure,
  DispatchRetryPolicy,
  type DispatchRetryOptions,
  type DispatchRetryDeps,
} from "./retry-policy";
export { failIfUnreported } from "./agent-exit";
export { registerDispatchMetrics } from "./metrics";
export { tokenGraceSeconds, agentTokenLifetime, type TokenTtlPolicy } from "./token-ttl";
export { ExecutorPolicyViolation } from "./policy-violation";
export { TEAM_POLICY_TTL_MS, TeamPolicies, type TeamPoliciesOptions, type TeamPolicy, type TeamPolicySource } from "./team-policies";
