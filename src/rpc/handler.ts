/**
 * Mounts the AgentService on the API's port: a fetch-style handler the HTTP server calls first, which answers
 * only paths under /leoflow.agent.v1.AgentService/ and returns null for everything else.
 *
 * @example
 * const agentRpc = createAgentRpcHandler({ store, tokens, logger, heartbeatIntervalSeconds: 10, onTaskStateChange });
 * Bun.serve({ fetch: async (req) => (await agentRpc(req)) ?? app.fetch(req) });
 */
import { createConnectRouter } from "@connectrpc/connect";
import { universalServerRequestFromFetch, universalServerResponseToFetch } from "@connectrpc/connect/protocol";
import { AgentService } from "../gen/leoflow/agent/v1/agent_pb";
import { agentServiceImpl, type AgentRpcDeps } from "./service";
import { AGENT_RPC_PREFIX } from "./prefix";

export { AGENT_RPC_PREFIX };

export function createAgentRpcHandler(deps: AgentRpcDeps): (req: Request) => Promise<Response | null> {
  // Connect protocol only: agents are our own fetch clients; gRPC needs trailers Bun's HTTP/1.1 lacks.
  const router = createConnectRouter({ connect: true, grpc: false, grpcWeb: false });
  router.service(AgentService, agentServiceImpl(deps));
  const byPath = new Map(router.handlers.map((h) => [h.requestPath, h]));

  return async (req) => {
    const path = new URL(req.url).pathname;
    if (!path.startsWith(AGENT_RPC_PREFIX)) return null;
    const handler = byPath.get(path);
    if (!handler)
      return Response.json(
        { code: "unimplemented", message: `${path} is not a method of ${AgentService.typeName}; this control plane may be older than the agent` },
        { status: 404 },
      );
    const res = await handler(universalServerRequestFromFetch(req, {}));
    return universalServerResponseToFetch(res);
  };
}
