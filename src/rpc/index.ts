/** The control plane's side of the agent protocol: the Connect AgentService, mounted by the HTTP server. */
export { createAgentRpc, createAgentRpcHandler, AGENT_RPC_PREFIX, type AgentRpc } from "./handler";
export type { AgentRpcDeps } from "./service";
export { xcomInputRefs, effectiveParams, taskEnv, type XComInputRef } from "./task-context";
export { rescheduleTry, type RescheduleStore } from "./reschedule";
