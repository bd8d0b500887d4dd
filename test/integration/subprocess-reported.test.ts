/**
 * What the subprocess executor tells its agent-exit hook about a warm agent's try (AgentExit.reported): a `done`
 * of 0 or 1 (the agent's report was answered) says so; a `done` of 2 (the protocol failed) and an agent that
 * dies mid-try do not, so only those tries are looked at and failed (dispatch/agent-exit.ts). In-process, with
 * a stand-in warm agent: a bash script that says ready, then answers each assignment as its token says.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SubprocessExecutor, type AgentExit, type ExecutorRequest } from "../../src/executors";
import { waitFor } from "../e2e/harness";

const dir = mkdtempSync(join(tmpdir(), "leoflow-subprocess-reported-"));
const agentScript = join(dir, "warm-agent.sh");
// The token names what the stand-in does with its try: "0", "1" or "2" says done with it, "die" exits mid-try.
writeFileSync(
  agentScript,
  [
    "echo 'leoflow-control {\"ready\":true}'",
    "while read -r line; do",
    '  case "$line" in',
    '    *\'"LEOFLOW_AGENT_TOKEN":"die"\'*) exit 1 ;;',
    '    *\'"LEOFLOW_AGENT_TOKEN":"0"\'*) echo \'leoflow-control {"done":0}\' ;;',
    '    *\'"LEOFLOW_AGENT_TOKEN":"1"\'*) echo \'leoflow-control {"done":1}\' ;;',
    "    *) echo 'leoflow-control {\"done\":2}' ;;",
    "  esac",
    "done",
  ].join("\n"),
);
const server = "http://127.0.0.1:1";
const task = parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }).tasks[0]!;
const req = (tryNumber: number, token: string): ExecutorRequest => ({
  taskInstanceId: 1,
  team: "default",
  dagId: "d",
  runId: "r",
  taskId: "t",
  tryNumber,
  task,
  dagFile: "",
  controlPlaneUrl: server,
  agentToken: token,
});
const exits: AgentExit[] = [];
const executor = new SubprocessExecutor({
  selfCommand: ["bash", agentScript],
  logger: silentLogger,
  env: { PATH: process.env.PATH },
  agentPool: { size: 1, server },
  onAgentExit: (e) => void exits.push(e),
});
afterAll(async () => {
  await executor.close(1_000);
  rmSync(dir, { recursive: true, force: true });
});

test("done 0 and 1 are reported tries; done 2 and an agent's death are not", async () => {
  const cases: [string, boolean][] = [
    ["0", true],
    ["1", true],
    ["2", false],
    ["die", false],
  ];
  for (const [i, [token, reported]] of cases.entries()) {
    await executor.execute(req(i + 1, token));
    await waitFor(
      () => exits.length === i + 1,
      10_000,
      () => `no exit for ${token}: ${JSON.stringify(exits)}`,
    );
    expect([token, exits[i]!.reported === true]).toEqual([token, reported]);
  }
  expect(exits.map((e) => e.exitCode)).toEqual([0, 1, 2, 1]);
});
