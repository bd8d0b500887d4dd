/**
 * How long an agent token lives. A task with an execution_timeout cannot legitimately need its token after
 * it has waited in the queue, run for the timeout and reported: the token expires then, plus a grace, and is
 * never renewed. A task without one gets `--agent-token-ttl` and a renewable token, which the control plane
 * replaces on heartbeat while the try runs. Either way the RPC also refuses a token whose try is no longer
 * queued or running; expiry bounds a token that leaks while its try still looks alive. Pure.
 *
 * @example agentTokenLifetime(600, { ceilingSeconds: 3600, queueWaitSeconds: 300, graceSeconds: 120 }) // { ttlSeconds: 1020, renewable: false }
 */

export interface TokenTtlPolicy {
  /** `--agent-token-ttl`: tokens of tasks without an execution_timeout (renewed on heartbeat). */
  ceilingSeconds: number;
  /** `--dispatch-lost-after`: how long a queued try may wait for its agent to register. */
  queueWaitSeconds: number;
  /** After the timeout: stopping the user process, flushing logs and reporting, with retries. */
  graceSeconds: number;
}

/** The token of a try whose task has `executionTimeoutSeconds` (undefined/0: none): seconds valid, renewable or not. */
export function agentTokenLifetime(
  executionTimeoutSeconds: number | undefined,
  p: TokenTtlPolicy,
): { ttlSeconds: number; renewable: boolean } {
  if (!executionTimeoutSeconds || executionTimeoutSeconds <= 0) return { ttlSeconds: p.ceilingSeconds, renewable: true };
  return { ttlSeconds: Math.ceil(p.queueWaitSeconds + executionTimeoutSeconds + p.graceSeconds), renewable: false };
}

/**
 * The grace after an execution_timeout: the agent's SIGTERM→SIGKILL wait (10 s), its last log batches and its
 * ReportState with the client's retries (1+2+4+8+16 s), plus the silence the reaper tolerates anyway.
 */
export function tokenGraceSeconds(agentLostAfterSeconds: number): number {
  return Math.ceil(agentLostAfterSeconds) + 60;
}
