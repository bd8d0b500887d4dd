/**
 * Who is calling: the bearer token names one task instance try. Every RPC starts here; a bad token is
 * Unauthenticated, a token whose task instance is unknown or is not the one it claims is PermissionDenied.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { AgentIdentity, AgentTokens } from "../auth";
import { AgentTokenError } from "../auth";
import type { Store, TaskInstanceRecord } from "../store";

export interface Caller {
  id: AgentIdentity;
  /** The task instance as it is now (its try may be newer than the token's: the agent is then stale). */
  ti: TaskInstanceRecord;
}

export async function authenticate(header: Headers, tokens: AgentTokens, store: Store): Promise<Caller> {
  const auth = header.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(auth.trim());
  if (!match)
    throw new ConnectError(
      "missing agent token: send `Authorization: Bearer <token>` with the token minted at dispatch (leoflow agent --token or LEOFLOW_AGENT_TOKEN)",
      Code.Unauthenticated,
    );
  let id: AgentIdentity;
  try {
    id = await tokens.verify(match[1]!);
  } catch (e) {
    if (e instanceof AgentTokenError) throw new ConnectError(e.message, Code.Unauthenticated);
    throw e;
  }
  const ti = await store.getTaskInstanceById(id.tiId);
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
  return { id, ti };
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
