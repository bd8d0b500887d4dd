/**
 * A warm agent's report on its control pipe (control-line.ts `report`): the subprocess executor hands it to its
 * `report` port with the try the agent runs, and writes the answer on the agent's stdin; an executor with no port
 * answers `unavailable`, so the agent reports over HTTP. In-process, with a stand-in warm agent: a bash script
 * that reports for each assignment, keeps the answer it reads, and says done 0 for an answer, 2 for an error.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDagSpec } from "../../src/domain/schemas";
import { silentLogger } from "../../src/observability";
import { SubprocessExecutor, type AgentExit, type ExecutorRequest } from "../../src/executors";
import { waitFor } from "../e2e/harness";

const dir = mkdtempSync(join(tmpdir(), "leoflow-piped-report-"));
const answers = join(dir, "answers");
const agentScript = join(dir, "warm-agent.sh");
writeFileSync(
  agentScript,
  [
    "echo 'leoflow-control {\"ready\":true}'",
    "while read -r line; do",
    '  echo \'leoflow-control {"report":{"state":"success","exitCode":0,"error":""}}\'',
    "  read -r answer",
    '  echo "$answer" >> "$ANSWERS"',
    '  case "$answer" in',
    "    *'\"report_answer\"'*) echo 'leoflow-control {\"done\":0}' ;;",
    "    *) echo 'leoflow-control {\"done\":2}' ;;",
    "  esac",
    "done",
  ].join("\n"),
);
const server = "http://127.0.0.1:1";
const task = parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }).tasks[0]!;
const req = (taskInstanceId: number): ExecutorRequest => ({
  taskInstanceId,
  team: "default",
  dagId: "d",
  runId: "r",
  taskId: "t",
  tryNumber: 3,
  task,
  dagFile: "",
  controlPlaneUrl: server,
  agentToken: "t",
});
const executors: SubprocessExecutor[] = [];
function executor(report?: ConstructorParameters<typeof SubprocessExecutor>[0]["report"]) {
  const exits: AgentExit[] = [];
  const e = new SubprocessExecutor({
    selfCommand: ["bash", agentScript],
    logger: silentLogger,
    env: { PATH: process.env.PATH, ANSWERS: answers },
    taskEnvPassthrough: ["ANSWERS"],
    agentPool: { size: 1, server },
    onAgentExit: (x) => void exits.push(x),
    ...(report ? { report } : {}),
  });
  executors.push(e);
  return { e, exits };
}
const answered = () => readFileSync(answers, "utf8").trim().split("\n");
afterAll(async () => {
  for (const e of executors) await e.close(1_000);
  rmSync(dir, { recursive: true, force: true });
});

test("the report reaches the port with the try the agent runs, and its answer the agent", async () => {
  writeFileSync(answers, "");
  const reports: unknown[] = [];
  const { e, exits } = executor(async (id, body) => (reports.push({ id, body }), { ok: true, answer: { state: "success" } }));
  await e.execute(req(41));
  await waitFor(
    () => exits.length === 1,
    10_000,
    () => `no exit: ${JSON.stringify(exits)}`,
  );
  expect(reports).toEqual([
    { id: { tiId: 41, tryNumber: 3, dagId: "d", runId: "r", taskId: "t" }, body: { state: "success", exitCode: 0, error: "" } },
  ]);
  expect(answered()).toEqual(['{"report_answer":{"state":"success"}}']);
  expect([exits[0]!.exitCode, exits[0]!.reported]).toEqual([0, true]);
});

test("an executor that takes no reports on the pipe answers unavailable: the agent goes over HTTP", async () => {
  writeFileSync(answers, "");
  const { e, exits } = executor();
  await e.execute(req(42));
  await waitFor(
    () => exits.length === 1,
    10_000,
    () => `no exit: ${JSON.stringify(exits)}`,
  );
  expect(answered()).toEqual(['{"report_error":{"code":"unavailable","message":"no report is taken on this pipe; send it over HTTP"}}']);
});
