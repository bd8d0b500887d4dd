/**
 * Mounts the AgentService on the API's port: a fetch-style handler the HTTP server calls first, which answers
 * only paths under /leoflow.agent.v1.AgentService/ and returns null for everything else. Each request passes
 * the door (door.ts: token verified, body read within the limit) before Connect decodes it.
 *
 * @example
 * const agentRpc = createAgentRpcHandler({ store, tokens, logger, heartbeatIntervalSeconds: 10, maxBodyBytes: 4 << 20, onTaskStateChange });
 * Bun.serve({ fetch: async (req) => (await agentRpc(req)) ?? app.fetch(req) });
 */
import { createConnectRouter, createContextValues } from "@connectrpc/connect";
import { universalServerResponseToFetch } from "@connectrpc/connect/protocol";
import { AgentService } from "../gen/leoflow/agent/v1/agent_pb";
import { agentServiceImpl, type AgentRpcDeps } from "./service";
import { AGENT_RPC_PREFIX } from "./prefix";
import { verifiedToken } from "./caller";
import { passDoor } from "./door";
import { DEFAULT_RPC_MAX_BODY } from "./body-limit";

export { AGENT_RPC_PREFIX };

export function createAgentRpcHandler(deps: AgentRpcDeps): (req: Request) => Promise<Response | null> {
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
  router.service(AgentService, agentServiceImpl(deps));
  const byPath = new Map(router.handlers.map((h) => [h.requestPath, h]));
  const door = { tokens: deps.tokens, maxBodyBytes, now: deps.now ?? (() => new Date()) };

  return async (req) => {
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
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  if (bytes.byteLength) yield bytes;
}
