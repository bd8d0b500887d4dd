/**
 * The control plane's agent RPC service on a real HTTP port over a test's store, as tests of the agent against
 * it need: `url` for the agent, `stop()` for afterAll. Handler options default to a 1-s heartbeat and no nudges.
 */
import type { AgentTokens } from "../../src/auth/agent-token";
import { silentLogger } from "../../src/observability/logger";
import { createAgentRpcHandler, type AgentRpcDeps } from "../../src/rpc";
import type { Store } from "../../src/store";

export function serveAgentRpc(store: Store, tokens: AgentTokens, opts: Partial<AgentRpcDeps> = {}): { url: string; stop(): void } {
  const handler = createAgentRpcHandler({
    store,
    tokens,
    logger: silentLogger,
    heartbeatIntervalSeconds: 1,
    onTaskStateChange: () => {},
    ...opts,
  });
  const server = Bun.serve({ port: 0, fetch: async (req) => (await handler(req)) ?? new Response("not found", { status: 404 }) });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
