/**
 * Mounts the AgentService on the API's port: a fetch-style handler the HTTP server calls first, which answers
 * only paths under /leoflow.agent.v1.AgentService/ and returns null for everything else. Each request passes
 * the door (door.ts: token verified, body read within the limit) before Connect decodes it.
 *
 * @example
 * const agentRpc = createAgentRpcHandler({ store, tokens, logger, heartbeatIntervalSeconds: 10, maxBodyBytes: 4 << 20, onTaskStateChange });
 * Bun.serve({ fetch: async (req) => (await agentRpc(req)) ?? app.fetch(req) });
 */
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, createConnectRouter, createContextValues, type HandlerContext } from "@connectrpc/connect";
import { universalServerResponseToFetch } from "@connectrpc/connect/protocol";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { AgentService, ReportStateRequestSchema, ReportStateResponseSchema } from "../gen/leoflow/agent/v1/agent_pb";
import type { AgentIdentity } from "../auth";
import type { ReportResult } from "../agent/launch";
import { errorMessage } from "../domain";
import { agentServiceImpl, type AgentRpcDeps } from "./service";
import { registerForAgent } from "./register";
import { taskSpecReader } from "./task-spec";
import { XComInputsAhead } from "./xcom-inputs";
import { AGENT_RPC_PREFIX } from "./prefix";
import { verifiedToken } from "./caller";
import { passDoor } from "./door";
import { DEFAULT_RPC_MAX_BODY } from "./body-limit";

export { AGENT_RPC_PREFIX };

/** The agent RPC's fetch handler alone (tests, and servers with no warm agents). */
export function createAgentRpcHandler(deps: AgentRpcDeps): (req: Request) => Promise<Response | null> {
  return createAgentRpc(deps).handle;
}

export interface AgentRpc {
  /** The fetch handler: answers paths under the service's prefix, null for anything else. */
  handle(req: Request): Promise<Response | null>;
  /**
   * A warm agent's ReportState sent on its control pipe (executors/subprocess.ts) for the try `id` it was handed:
   * the same handler as over HTTP, the pipe standing for the token (only that agent holds it, and the executor
   * knows which try it runs). `body`: the request as the agent's client writes it (proto3 JSON).
   */
  reportForAgent(id: AgentIdentity, body: Record<string, unknown>): Promise<ReportResult>;
  /** Register done by the server for a warm agent (register.ts), with the same spec builder as the service's. */
  registerForAgent: ReturnType<typeof registerForAgent>;
}

export function createAgentRpc(deps: AgentRpcDeps): AgentRpc {
  // Connect protocol only: agents are our own fetch clients; gRPC needs trailers Bun's HTTP/1.1 lacks.
  // readMaxBytes repeats the door's limit for whatever Connect itself decompresses; unknown fields are
  // skipped, not kept (a body of garbage would otherwise become hundreds of thousands of small objects).
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_RPC_MAX_BODY;
  const router = createConnectRouter({
    connect: true,
    grpc: false,
    grpcWeb: false,
    readMaxBytes: maxBodyBytes,
    binaryOptions: { readUnknownFields: false },
  });
  const ahead = new XComInputsAhead(deps.store);
  const taskSpec = taskSpecReader(deps.store, ahead);
  const impl = agentServiceImpl(deps, taskSpec, ahead);
  router.service(AgentService, impl);
  const byPath = new Map(router.handlers.map((h) => [h.requestPath, h]));
  const door = { tokens: deps.tokens, maxBodyBytes, now: deps.now ?? (() => new Date()) };

  const handle = async (req: Request): Promise<Response | null> => {
    const path = new URL(req.url).pathname;
    if (!path.startsWith(AGENT_RPC_PREFIX)) return null;
    const handler = byPath.get(path);
    if (!handler)
      return Response.json(
        {
          code: "unimplemented",
          message: `${path} is not a method of ${AgentService.typeName}; this control plane may be older than the agent`,
        },
        { status: 404 },
      );
    const passed = await passDoor(req, path.slice(AGENT_RPC_PREFIX.length), door);
    if (!passed.ok) return passed.response;
    const res = await handler({
      httpVersion: "",
      method: req.method,
      url: req.url,
      header: req.headers,
      body: oneChunk(passed.body),
      signal: req.signal,
      contextValues: createContextValues().set(verifiedToken, passed.token),
    });
    return universalServerResponseToFetch(res);
  };

  const reportForAgent = async (id: AgentIdentity, body: Record<string, unknown>): Promise<ReportResult> => {
    try {
      const req = fromJson(ReportStateRequestSchema, body as JsonValue);
      // The pipe is the credential: the try is the one the executor handed this agent, valid while it runs it.
      const values = createContextValues().set(verifiedToken, { id, expiresAt: PIPE_TOKEN_EXPIRY });
      const res = await impl.reportState(req, { values, requestHeader: new Headers() } as HandlerContext);
      return { ok: true, answer: toJson(ReportStateResponseSchema, create(ReportStateResponseSchema, res)) as Record<string, unknown> };
    } catch (e) {
      const err = e instanceof ConnectError ? e : new ConnectError(errorMessage(e), Code.InvalidArgument);
      return { ok: false, code: codeToString(err.code), message: err.rawMessage };
    }
  };
  return {
    handle,
    reportForAgent,
    registerForAgent: registerForAgent({ ...deps, taskSpec }),
  };
}

/** A piped report names no token; its identity never expires while the executor holds it. */
const PIPE_TOKEN_EXPIRY = new Date(8.64e15);

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  if (bytes.byteLength) yield bytes;
}
