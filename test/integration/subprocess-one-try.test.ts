/**
 * SubprocessExecutor's one-try wall, in-process with a stand-in agent (a bash script that starts a ticking
 * "user process" in its own session, announces its group on the control line, then waits): the user group
 * dies with its agent before the exit is reported, and a new try launches only once the earlier try's
 * agent and group are gone, even when that agent is frozen (SIGSTOP) and ignores SIGTERM.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/observability";
import { SubprocessExecutor, groupAlive, type AgentExit } from "../../src/executors";
import { bashTryRequest } from "../support/executor-request";
import { waitFor } from "../e2e/harness";

const dir = mkdtempSync(join(tmpdir(), "leoflow-subprocess-one-try-"));
const markers = join(dir, "markers");
const agentScript = join(dir, "fake-agent.sh");
// $LEOFLOW_AGENT_TOKEN carries the try number here; the stand-in ignores `agent --server URL`.
writeFileSync(
  agentScript,
  [
    'echo "agent $LEOFLOW_AGENT_TOKEN start" >> "$MARKERS"',
    'setsid bash -c \'while :; do echo "tick $LEOFLOW_AGENT_TOKEN" >> "$MARKERS"; sleep 0.05; done\' &',
    'echo "leoflow-control {\\"user_pgid\\":$!}"',
    'echo "pgid $LEOFLOW_AGENT_TOKEN $!" >> "$MARKERS"',
    "sleep 300",
  ].join("\n"),
);
const req = (tryNumber: number) => bashTryRequest({ tryNumber, agentToken: String(tryNumber) });
const lines = () => (existsSync(markers) ? readFileSync(markers, "utf8").trim().split("\n") : []);
const pgidOf = (tryNumber: number) =>
  Number(
    lines()
      .find((l) => l.startsWith(`pgid ${tryNumber} `))
      ?.split(" ")[2] ?? 0,
  );

const exits: AgentExit[] = [];
const aliveAtExit: boolean[] = [];
const executor = new SubprocessExecutor({
  selfCommand: ["bash", agentScript],
  logger: silentLogger,
  killGraceMs: 300,
  env: { PATH: process.env.PATH, MARKERS: markers },
  taskEnvPassthrough: ["MARKERS"],
  onAgentExit: (e) => {
    exits.push(e);
    aliveAtExit.push(groupAlive(pgidOf(e.tryNumber)));
  },
});

afterEach(async () => {
  for (const t of [1, 2, 3]) await executor.cancel(1, t);
  writeFileSync(markers, "");
  exits.length = 0;
  aliveAtExit.length = 0;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a SIGKILLed agent's user group is stopped before its exit is reported", async () => {
  await executor.execute(req(1));
  await waitFor(
    () => lines().includes("tick 1") && pgidOf(1),
    10_000,
    () => `no tick: ${lines()}`,
  );
  const agent = Number(
    Bun.spawnSync(["pgrep", "-f", `${agentScript} agent`])
      .stdout.toString()
      .trim()
      .split("\n")[0],
  );
  process.kill(agent, "SIGKILL");
  await waitFor(
    () => exits.length === 1,
    20_000,
    () => "exit not reported",
  );
  expect(exits[0]).toMatchObject({ tryNumber: 1, signal: "SIGKILL" });
  expect(aliveAtExit).toEqual([false]);
});

test("try 2 launches only once try 1's frozen agent and its group are gone", async () => {
  await executor.execute(req(1));
  await waitFor(
    () => lines().includes("tick 1") && pgidOf(1),
    10_000,
    () => `no tick: ${lines()}`,
  );
  const agent = Number(
    Bun.spawnSync(["pgrep", "-f", `${agentScript} agent`])
      .stdout.toString()
      .trim()
      .split("\n")[0],
  );
  process.kill(agent, "SIGSTOP"); // a frozen agent: the executor's SIGTERM is followed by SIGCONT, so it acts on it
  await executor.execute(req(2));
  await waitFor(
    () => lines().includes("tick 2"),
    20_000,
    () => `try 2 never ticked: ${lines()}`,
  );
  const m = lines();
  expect(m.slice(m.indexOf("agent 2 start")).filter((l) => l === "tick 1")).toEqual([]);
  expect(groupAlive(pgidOf(1))).toBe(false);
  expect(exits.map((e) => [e.tryNumber, e.signal])).toEqual([[1, "SIGTERM"]]);
});
