/**
 * A warm agent's try as the subprocess executor sees it end, in-process with stand-in warm agents (bash scripts
 * that say ready and answer each assignment as the test needs):
 * - AgentExit.reported: a `done` of 0 or 1 (the agent's report was answered) says so; a `done` of 2 (its protocol
 *   failed) and an agent that dies mid-try do not, so only those tries are looked at and failed
 *   (dispatch/agent-exit.ts);
 * - a report on the control pipe (control-line.ts `report`) reaches the executor's `report` port with the try the
 *   agent runs, and its answer the agent's stdin; an executor with no port answers `unavailable`, so the agent
 *   reports over HTTP;
 * - the server registers a try only for an agent that is up (said ready): one still starting registers itself,
 *   so no try is written running for an agent that may never read it; hasIdleAgent says whether one is up and free.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/observability";
import { SubprocessExecutor, type AgentExit } from "../../src/executors";
import { bashTryRequest } from "../support/executor-request";
import { waitFor } from "../e2e/harness";

const dir = mkdtempSync(join(tmpdir(), "leoflow-warm-try-end-"));
const server = "http://127.0.0.1:1";
/** Where the reporting stand-in keeps the answers it read. */
const answers = join(dir, "answers");
const executors: SubprocessExecutor[] = [];
afterAll(async () => {
  for (const e of executors) await e.close(1_000);
  rmSync(dir, { recursive: true, force: true });
});

type Ports = Pick<ConstructorParameters<typeof SubprocessExecutor>[0], "report" | "register">;

/** An executor with a pool of one warm stand-in running `script`; its agents' exits are collected. */
function executor(script: string[], opts: Ports = {}) {
  const path = join(dir, `agent-${executors.length}.sh`);
  writeFileSync(path, script.join("\n"));
  const exits: AgentExit[] = [];
  const e = new SubprocessExecutor({
    selfCommand: ["bash", path],
    logger: silentLogger,
    env: { PATH: process.env.PATH, ANSWERS: answers },
    taskEnvPassthrough: ["ANSWERS"],
    agentPool: { size: 1, server },
    onAgentExit: (x) => void exits.push(x),
    ...opts,
  });
  executors.push(e);
  const run = async (over: Parameters<typeof bashTryRequest>[0]) => {
    const before = exits.length;
    await e.execute(bashTryRequest({ controlPlaneUrl: server, ...over }));
    await waitFor(
      () => exits.length > before,
      10_000,
      () => `no exit: ${JSON.stringify(exits)}`,
    );
    return exits.at(-1)!;
  };
  return { run, executor: e };
}

// The token names what this stand-in does with its try: "0", "1" or "2" says done with it, "die" exits mid-try.
const BY_TOKEN = [
  "echo 'leoflow-control {\"ready\":true}'",
  "while read -r line; do",
  '  case "$line" in',
  '    *\'"LEOFLOW_AGENT_TOKEN":"die"\'*) exit 1 ;;',
  '    *\'"LEOFLOW_AGENT_TOKEN":"0"\'*) echo \'leoflow-control {"done":0}\' ;;',
  '    *\'"LEOFLOW_AGENT_TOKEN":"1"\'*) echo \'leoflow-control {"done":1}\' ;;',
  "    *) echo 'leoflow-control {\"done\":2}' ;;",
  "  esac",
  "done",
];

// This one reports for each assignment, keeps the answer it reads, and says done 0 for an answer, 2 for an error.
const REPORTS = [
  "echo 'leoflow-control {\"ready\":true}'",
  "while read -r line; do",
  '  echo \'leoflow-control {"report":{"state":"success","exitCode":0,"error":""},"report_id":7}\'',
  "  read -r answer",
  '  echo "$answer" >> "$ANSWERS"',
  '  case "$answer" in',
  "    *'\"report_answer\"'*) echo 'leoflow-control {\"done\":0}' ;;",
  "    *) echo 'leoflow-control {\"done\":2}' ;;",
  "  esac",
  "done",
];
const answered = () => readFileSync(answers, "utf8").trim().split("\n");

test("done 0 and 1 are reported tries; done 2 and an agent's death are not", async () => {
  const { run } = executor(BY_TOKEN);
  const ends: [string, number | null, boolean][] = [];
  for (const [i, token] of ["0", "1", "2", "die"].entries()) {
    const end = await run({ tryNumber: i + 1, agentToken: token });
    ends.push([token, end.exitCode, end.reported === true]);
  }
  expect(ends).toEqual([
    ["0", 0, true],
    ["1", 1, true],
    ["2", 2, false],
    ["die", 1, false],
  ]);
});

test("a report on the pipe reaches the port with the try the agent runs, and its answer the agent", async () => {
  writeFileSync(answers, "");
  const reports: unknown[] = [];
  const { run } = executor(REPORTS, {
    report: async (id, body) => (reports.push({ id, body }), { ok: true, answer: { state: "success" } }),
  });
  const end = await run({ taskInstanceId: 41, tryNumber: 3 });
  expect(reports).toEqual([
    { id: { tiId: 41, tryNumber: 3, dagId: "d", runId: "r", taskId: "t" }, body: { state: "success", exitCode: 0, error: "" } },
  ]);
  expect(answered()).toEqual(['{"report_answer":{"state":"success"},"report_id":7}']);
  expect([end.exitCode, end.reported]).toEqual([0, true]);
});

test("an executor that takes no reports on the pipe answers unavailable: the agent goes over HTTP", async () => {
  writeFileSync(answers, "");
  const { run } = executor(REPORTS);
  await run({ taskInstanceId: 42 });
  expect(answered()).toEqual([
    '{"report_error":{"code":"unavailable","message":"no report is taken on this pipe; send it over HTTP"},"report_id":7}',
  ]);
});

// This one takes 300 ms to say ready, then keeps each assignment line it reads and says done 0.
const SLOW_TO_START = [
  "sleep 0.3",
  "echo 'leoflow-control {\"ready\":true}'",
  "while read -r line; do",
  '  echo "$line" >> "$ANSWERS"',
  "  echo 'leoflow-control {\"done\":0}'",
  "done",
];

test("a try given to an agent still starting is not registered by the server; one given to an idle agent is", async () => {
  writeFileSync(answers, "");
  const registered: number[] = [];
  const { run, executor: e } = executor(SLOW_TO_START, {
    register: async (_token, agent) => (registered.push(agent.pid), { dagId: "d", runId: "r", taskId: "t", tryNumber: 1 }),
  });
  expect(e.hasIdleAgent()).toBe(false); // its pool's agent is still starting
  await run({ taskInstanceId: 51 });
  expect(registered).toEqual([]);
  await waitFor(
    () => e.hasIdleAgent(),
    10_000,
    () => "no agent became idle",
  );
  await run({ taskInstanceId: 52 });
  expect(registered.length).toBe(1);
  const lines = answered().map((l) => JSON.parse(l));
  expect(lines.map((l) => "registered" in l)).toEqual([false, true]);
});
