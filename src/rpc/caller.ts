/**
 * Who is calling: the bearer token names one task instance try. Every RPC starts here; a bad token is
 * Unauthenticated, a token whose task instance is unknown or is not the one it claims is PermissionDenied.
 * The door (door.ts) has usually verified the token already and passes the identity in the context values.
 */
import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { AgentIdentity, AgentTokens, VerifiedAgentToken } from "../auth";
import { AgentTokenError } from "../auth";
import type { TaskInstanceRecord, TaskState } from "../domain";
import type { AgentRpcStore, TryIdentity } from "../store";
import { MISSING_TOKEN, bearerToken } from "./door";

/** The token the door verified for this request (null: verify the header here). */
export const verifiedToken = createContextKey<VerifiedAgentToken | null>(null, { description: "leoflow agent token" });

export interface Caller {
  id: AgentIdentity;
  /** When the token in use expires. */
  expiresAt: Date;
  /** The task instance as it is now (its try may be newer than the token's: the agent is then stale). */
  ti: TaskInstanceRecord;
}

export async function authenticate(
  ctx: Pick<HandlerContext, "requestHeader" | "values">,
  tokens: AgentTokens,
  store: Pick<AgentRpcStore, "getTaskInstanceById">,
  now: Date,
): Promise<Caller> {
  const token = await identify(ctx, tokens, now);
  return callerOf(token, await store.getTaskInstanceById(token.id.tiId));
}

/** The token's identity, without reading the task instance (Register reads it with its write). */
export async function identify(
  ctx: Pick<HandlerContext, "requestHeader" | "values">,
  tokens: AgentTokens,
  now: Date,
): Promise<VerifiedAgentToken> {
  return ctx.values.get(verifiedToken) ?? (await verifyHeader(ctx.requestHeader, tokens, now));
}

/** The try a token names, as the store's agent writes take it. */
export function tryOf({ id }: VerifiedAgentToken): TryIdentity {
  return { id: id.tiId, dag_id: id.dagId, run_id: id.runId, task_id: id.taskId, try_number: id.tryNumber };
}

/** The caller, once the task instance its token names is read; PermissionDenied when it is gone or another task. */
export function callerOf(token: VerifiedAgentToken, ti: TaskInstanceRecord | null): Caller {
  const { id, expiresAt } = token;
  if (!ti)
    throw new ConnectError(
      `task instance ${id.tiId} (${describe(id)}) named by this agent token does not exist; its run was probably deleted`,
      Code.PermissionDenied,
    );
  if (ti.dag_id !== id.dagId || ti.run_id !== id.runId || ti.task_id !== id.taskId)
    throw new ConnectError(
      `agent token is for ${describe(id)} but task instance ${id.tiId} is ${ti.dag_id}/${ti.run_id}/${ti.task_id}; refusing`,
      Code.PermissionDenied,
    );
  return { id, expiresAt, ti };
}

async function verifyHeader(header: Headers, tokens: AgentTokens, now: Date): Promise<VerifiedAgentToken> {
  const token = bearerToken(header);
  if (!token) throw new ConnectError(MISSING_TOKEN, Code.Unauthenticated);
  try {
    return await tokens.verifyWithExpiry(token, now);
  } catch (e) {
    if (e instanceof AgentTokenError) throw new ConnectError(e.message, Code.Unauthenticated);
    throw e;
  }
}

export function describe(id: Pick<AgentIdentity, "dagId" | "runId" | "taskId">): string {
  return `${id.dagId}/${id.runId}/${id.taskId}`;
}

/** The FailedPrecondition an agent gets when its try is no longer the one the control plane runs. */
export function staleError(caller: Caller): ConnectError {
  const { id, ti } = caller;
  return new ConnectError(
    `task instance ${describe(id)} is ${ti.state} on try ${ti.try_number}; this agent's try ${id.tryNumber} is stale`,
    Code.FailedPrecondition,
  );
}

export function isStale(caller: Caller): boolean {
  return caller.ti.try_number !== caller.id.tryNumber;
}

/** States in which a try is live: its agent may fetch its spec and secrets and write logs and XComs. */
export const LIVE_TASK_STATES: ReadonlySet<TaskState> = new Set(["queued", "running"]);

/** Why the caller's try is not live any more (finished, or superseded by a newer try), or null while it is. Pure. */
export function notLiveReason(caller: Caller): string | null {
  const { id, ti } = caller;
  if (ti.try_number !== id.tryNumber)
    return `task instance ${describe(id)} is on try ${ti.try_number} (${ti.state}); this token's try ${id.tryNumber} is over`;
  if (!LIVE_TASK_STATES.has(ti.state))
    return `task instance ${describe(id)} try ${id.tryNumber} is ${ti.state}, no longer queued or running`;
  return null;
}

/**
 * Refuses data writes and secret reads for a try that is not live: a token is good only while its try runs,
 * so a finished try's leftover process (or a leaked token) cannot rewrite its return value, log or read secrets.
 */
export function requireLiveTry(caller: Caller, method: string): void {
  const reason = notLiveReason(caller);
  if (reason)
    throw new ConnectError(
      `${method} refused: ${reason}; an agent token is valid only while its try is queued or running`,
      Code.PermissionDenied,
    );
}

/**
 * Whether a heartbeat should hand the agent a fresh token: only renewable ones (tasks without
 * execution_timeout), once past half of `ttlSeconds`, so a running try never outlives its token. Pure.
 */
export function renewalDue(caller: Pick<Caller, "id" | "expiresAt">, now: Date, ttlSeconds: number | undefined): boolean {
  if (!ttlSeconds || !caller.id.renewable) return false;
  return caller.expiresAt.getTime() - now.getTime() < (ttlSeconds * 1000) / 2;
}
