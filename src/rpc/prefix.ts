/**
 * The path prefix of the agent RPC, as plain text: the server routes by it without loading the protobuf
 * runtime and the service descriptors, which load in the background after start-up (see app.ts).
 * test/unit/rpc checks it matches the generated service's type name.
 */
export const AGENT_RPC_PREFIX = "/leoflow.agent.v1.AgentService/";
