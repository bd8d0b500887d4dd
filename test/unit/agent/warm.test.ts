/**
 * The warm agent's loop, in-process with a stand-in for the try (runAgent): each try runs with this agent's
 * environment plus that try's own values, never a value of the try before; a bad assignment ends the agent.
 * Assignments come from an in-memory stream and the control channel is off (each try's temp folder, which the
 * agent makes ahead: test/integration/agent/warm-try-dir.test.ts).
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

test("a try the server registered comes with Register's answer: the agent does not register it again", async () => {
  const seen: RunAgentOptions[] = [];
  const registered = {
    $typeName: "leoflow.agent.v1.RegisterResponse",
    dagId: "d",
    runId: "r",
    taskId: "t",
    tryNumber: 2,
    heartbeatIntervalSeconds: 7,
    reportTakesLogs: true,
    spec: { dagId: "d", runId: "r", taskId: "t", tryNumber: 2, operator: "bash", taskJson: "{}", env: { A: "1" }, logSeqStart: 40n },
  };
  await runWarmAgent({
    logger: silentLogger,
    env: base,
    input: input([
      formatAssignment({ LEOFLOW_AGENT_TOKEN: "t1", LEOFLOW_SERVER: "http://a" }, registered),
      formatAssignment({ LEOFLOW_AGENT_TOKEN: "t2", LEOFLOW_SERVER: "http://a" }),
    ]),
    run: async (o) => (seen.push(o), 0),
  });
  const reg = seen[0]!.registered!;
  expect([reg.tryNumber, reg.heartbeatIntervalSeconds, reg.reportTakesLogs]).toEqual([2, 7, true]);
  // In the agent client's shape: 64-bit numbers as text, the fields left out at their defaults.
  expect([reg.spec!.operator, reg.spec!.env, reg.spec!.logSeqStart, reg.spec!.xcomInputs]).toEqual(["bash", { A: "1" }, "40", {}]);
  // A try without one registers itself, as a cold agent does.
  expect(seen[1]!.registered).toBeUndefined();
});
