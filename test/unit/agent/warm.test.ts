/**
 * The warm agent's loop, in-process with a stand-in for the try (runAgent): each try runs with this agent's
 * environment plus that try's own values, never a value of the try before; a bad assignment ends the agent.
 * Assignments come from an in-memory stream and the control channel is off (each try's temp folder, which the
 * agent makes ahead: test/integration/agent/warm-try-dir.test.ts).
 */
import { describe, expect, test } from "bun:test";
import {
  AgentRpcError,
  formatAssignment,
  parseControlLine,
  runWarmAgent,
  type AgentClient,
  type RunAgentOptions,
} from "../../../src/agent";
import { formatReportAnswer } from "../../../src/agent/assignment";
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

describe("a try's report on the control pipe", () => {
  /** A warm agent with a control pipe: its control lines are read here and its stdin is written from here. */
  function pipedAgent(answer: (report: Record<string, unknown>, id: number) => string[]) {
    const encoder = new TextEncoder();
    let stdin!: ReadableStreamDefaultController<Uint8Array>;
    const input = new ReadableStream<Uint8Array>({ start: (c) => void (stdin = c) });
    const http: string[] = [];
    const lines: string[] = [];
    const client = {
      reportState: async (req: { state: string }) => (http.push(req.state), { state: `${req.state} over http` }),
    } as unknown as AgentClient;
    const outcome: { state?: string; error?: unknown } = {};
    const done = runWarmAgent({
      logger: silentLogger,
      env: { ...base, LEOFLOW_AGENT_CONTROL: "stdout" },
      input,
      writeControl: (line) => {
        lines.push(line.trimEnd());
        const msg = parseControlLine(line.trimEnd());
        if (msg && "report" in msg) for (const a of answer(msg.report, msg.report_id)) stdin.enqueue(encoder.encode(a));
        if (msg && "done" in msg) stdin.close();
      },
      dial: () => client,
      run: async (o) => {
        try {
          outcome.state = (await o.client!.reportState({ state: "success", exitCode: 0, error: "" })).state;
        } catch (e) {
          outcome.error = e;
        }
        return 0;
      },
    });
    stdin.enqueue(encoder.encode(formatAssignment({ LEOFLOW_AGENT_TOKEN: "t1", LEOFLOW_SERVER: "http://a" })));
    return { done, http, lines, outcome };
  }

  test("is answered on stdin under its number: no HTTP call, no `reporting` line, another report's answer dropped", async () => {
    const seen: Record<string, unknown>[] = [];
    const a = pipedAgent((report, id) => {
      seen.push(report);
      // A late answer to another report first: not this one's.
      return [
        formatReportAnswer({ ok: true, answer: { state: "failed" }, id: id + 100 }),
        formatReportAnswer({ ok: true, answer: { state: "success" }, id }),
      ];
    });
    expect(await a.done).toBe(0);
    expect(a.outcome).toEqual({ state: "success" });
    expect(seen).toEqual([{ state: "success", exitCode: 0, error: "" }]);
    expect(a.http).toEqual([]);
    expect(a.lines.filter((l) => l.includes("reporting"))).toEqual([]);
  });

  test("a refusal no retry can change is the try's answer, as over HTTP", async () => {
    const a = pipedAgent((_r, id) => [
      formatReportAnswer({ ok: false, code: "failed_precondition", message: "the try is now failed", id }),
    ]);
    await a.done;
    expect(a.outcome.error).toBeInstanceOf(AgentRpcError);
    expect((a.outcome.error as AgentRpcError).code).toBe("failed_precondition");
    expect(a.http).toEqual([]);
  });

  test("an answer a retry may change sends the report over HTTP, saying `reporting` first", async () => {
    const a = pipedAgent((_r, id) => [
      formatReportAnswer({ ok: false, code: "unavailable", message: "no report is taken on this pipe", id }),
    ]);
    await a.done;
    expect([a.outcome.state, a.http]).toEqual(["success over http", ["success"]]);
    expect(a.lines.filter((l) => l.includes("reporting"))).toHaveLength(1);
  });
});
