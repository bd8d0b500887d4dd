/**
 * The warm agent's loop, in-process with a stand-in for the try (runAgent): each try runs with this agent's
 * environment plus that try's own values, never a value of the try before; a bad assignment ends the agent.
 * No I/O: assignments come from an in-memory stream and the control channel is off.
 */
import { expect, test } from "bun:test";
import { formatAssignment, runWarmAgent, type RunAgentOptions } from "../../../src/agent";
import { silentLogger } from "../../../src/observability";

function input(lines: string[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(lines.join(""));
  return new ReadableStream({
    start(c) {
      // Split mid-line: a line may arrive in pieces.
      c.enqueue(bytes.slice(0, 7));
      c.enqueue(bytes.slice(7));
      c.close();
    },
  });
}

const base = { PATH: "/usr/bin", HOME: "/home/u" };

test("each try gets this agent's environment and its own values, nothing of an earlier try", async () => {
  const seen: RunAgentOptions[] = [];
  const code = await runWarmAgent({
    logger: silentLogger,
    env: base,
    input: input([
      formatAssignment({ LEOFLOW_AGENT_TOKEN: "t1", LEOFLOW_SERVER: "http://a", LEOFLOW_STAGING_DIR: "/staging/1" }),
      formatAssignment({ LEOFLOW_AGENT_TOKEN: "t2", LEOFLOW_SERVER: "http://a" }),
    ]),
    run: async (o) => (seen.push(o), seen.length === 1 ? 1 : 0),
  });
  expect(code).toBe(0); // stdin closed after the last try: the agent ends
  expect(seen.map((o) => [o.server, o.token, o.env])).toEqual([
    ["http://a", "t1", { ...base, LEOFLOW_AGENT_TOKEN: "t1", LEOFLOW_SERVER: "http://a", LEOFLOW_STAGING_DIR: "/staging/1" }],
    ["http://a", "t2", { ...base, LEOFLOW_AGENT_TOKEN: "t2", LEOFLOW_SERVER: "http://a" }],
  ]);
  expect(base).toEqual({ PATH: "/usr/bin", HOME: "/home/u" });
});

test("an unreadable assignment ends the agent with code 2 before any try runs", async () => {
  let runs = 0;
  const code = await runWarmAgent({
    logger: silentLogger,
    env: base,
    input: input(['{"LEOFLOW_AGENT_TOKEN":"t"}\n', formatAssignment({ LEOFLOW_AGENT_TOKEN: "t2", LEOFLOW_SERVER: "http://a" })]),
    run: async () => (runs++, 0),
  });
  expect([code, runs]).toEqual([2, 0]);
});
