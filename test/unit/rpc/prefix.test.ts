import { expect, test } from "bun:test";
import { AgentService } from "../../../src/gen/leoflow/agent/v1/agent_pb";
import { AGENT_RPC_PREFIX } from "../../../src/rpc/prefix";

test("the plain-text RPC prefix the server routes by is the generated service's path", () => {
  expect(AGENT_RPC_PREFIX).toBe(`/${AgentService.typeName}/`);
});
