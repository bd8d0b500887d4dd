/**
 * Register: an agent's try moves queued → running, and the agent learns how to run it (its spec, the heartbeat
 * interval). Served over the RPC, and in-process for a warm subprocess agent (registerForAgent): the server
 * registers the try it hands that agent and sends the answer with the assignment, so the agent's first call
 * is its report (the RPC's round trip and Connect's decode were ~2 ms of a traced bash hop). A try a chain's
 * hand-off started with its upstream's end is running already: its answer needs no write and no read.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RegisterResponseSchema, type GetTaskSpecResponse, type RegisterResponse } from "../gen/leoflow/agent/v1/agent_pb";
import { AgentTokenError, type AgentTokens, type VerifiedAgentToken } from "../auth";
import type { DagRunRecord, TaskInstanceRecord } from "../domain";
import type { AgentRpcStore } from "../store";
import type { Logger } from "../observability";
import { callerOf, describe, isStale, staleError, tryOf, type Caller } from "./caller";
import type { KnownRun } from "./task-spec";

export interface RegisterDeps {
  store: AgentRpcStore;
  logger: Logger;
  heartbeatIntervalSeconds: number;
  taskSpec: (c: Caller, known?: KnownRun) => Promise<GetTaskSpecResponse>;
}

/** Who registers: where the agent runs, and whether it wants the try's spec in the answer. */
export interface RegisterRequestFields {
  hostname: string;
  pid: number;
  includeSpec: boolean;
}

/**
 * The start and the read of the task instance are one store call (one round trip on Postgres): the write
 * applies only to the token's task, on the token's try, while it is queued. FailedPrecondition when the try is
 * no longer the one to run.
 */
export async function registerTry(
  deps: RegisterDeps,
  token: VerifiedAgentToken,
  req: RegisterRequestFields,
  now: Date,
): Promise<RegisterResponse> {
  const { store, logger } = deps;
  const started = await store.startTry({ ...tryOf(token), hostname: req.hostname || null, pid: req.pid || null }, now);
  let c = callerOf(token, started?.ti ?? null);
  // Found queued on this try yet not started: a reaper, mark or clear won the row meanwhile, and the state
  // it left behind decides (Postgres answers the row as the statement first saw it).
  if (started && !started.applied && !isStale(c) && c.ti.state === "queued")
    c = callerOf(token, await store.getTaskInstanceById(token.id.tiId));
  if (isStale(c) || c.ti.state !== "running") throw staleError(c);
  logger.debug("agent registered", { ti: describe(c.id), try: c.id.tryNumber, hostname: req.hostname, pid: req.pid });
  return answer(deps, c, req.includeSpec ? (started ?? {}) : null);
}

/** A try a chain's hand-off started, as it was written (DispatchStep.startOnHandOff), with its DAG's file. */
export interface StartedTry {
  ti: TaskInstanceRecord;
  run: DagRunRecord;
  dagFile: string;
}

/**
 * Register's answer for a try started by its upstream's end: nothing to write, and nothing to read back (the
 * hand-off's write applied, and the dispatch passed its records on). Should the try move on before its agent
 * runs it (a mark, a clear), the agent's first heartbeat or report learns it, as after any Register.
 */
function startedAnswer(deps: RegisterDeps, c: Caller, started: StartedTry): Promise<RegisterResponse> {
  return answer(deps, c, { run: started.run, dagFileloc: started.dagFile || null });
}

/** `known`: what the try's spec is built from besides the store (null: no spec asked for). */
async function answer(deps: RegisterDeps, c: Caller, known: KnownRun | null): Promise<RegisterResponse> {
  return create(RegisterResponseSchema, {
    dagId: c.id.dagId,
    runId: c.id.runId,
    taskId: c.id.taskId,
    tryNumber: c.id.tryNumber,
    heartbeatIntervalSeconds: deps.heartbeatIntervalSeconds,
    // The agent's last log lines may ride on its ReportState (one write for both).
    reportTakesLogs: true,
    // Built once the try is running, so its start waits for none of it. A spec that cannot be built is
    // left to the agent's GetTaskSpec, which answers with the error as it always has.
    spec: known ? await deps.taskSpec(c, known).catch(() => undefined) : undefined,
  });
}

/**
 * Register done by the server for a warm agent it hands a try (`token`): the answer the agent would have had,
 * for its assignment line (agent/assignment.ts). Throws what the RPC would have answered (a ConnectError: an
 * invalid token, a stale try), or the store's error.
 */
export function registerForAgent(deps: RegisterDeps & { tokens: AgentTokens }) {
  return async (token: string, agent: { hostname: string; pid: number }, now: Date, started?: StartedTry): Promise<RegisterResponse> => {
    let verified: VerifiedAgentToken;
    try {
      verified = await deps.tokens.verifyWithExpiry(token, now);
    } catch (e) {
      if (e instanceof AgentTokenError) throw new ConnectError(e.message, Code.Unauthenticated);
      throw e;
    }
    if (started && started.ti.id === verified.id.tiId && started.ti.try_number === verified.id.tryNumber)
      return startedAnswer(deps, callerOf(verified, started.ti), started);
    return registerTry(deps, verified, { ...agent, includeSpec: true }, now);
  };
}
