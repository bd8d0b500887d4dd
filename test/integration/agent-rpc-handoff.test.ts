/**
 * ReportState with a hand-off (AgentRpcDeps.handOff): a real agent against the real RPC service over HTTP and a
 * SQLite store; the scheduler's side is a double (a recorded hand-off naming the chain's next task). A success
 * queues the next task in the same write and the run is nudged only when the hand-off says so; a failure asks for
 * none; a hand-off that cannot be chosen leaves the report alone.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import { openStore, type Store } from "../../src/store";
import { createAgentRpcHandler, type AgentRpcDeps } from "../../src/rpc";
import { AgentTokens } from "../../src/auth/agent-token";
import { runAgent } from "../../src/agent";
import { silentLogger } from "../../src/observability/logger";
import { buildDagRun } from "../../src/scheduler/trigger";

const tokens = new AgentTokens("integration-test-secret-32-bytes");
let store: Store;
let server: ReturnType<typeof Bun.serve> | undefined;
let nudged: number[];

beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
  nudged = [];
});
afterEach(async () => {
  server?.stop(true);
  await store.close();
});

/** A run of a → b (b waits), a failing task f, and the RPC served with `handOff`. */
async function setUp(handOff: AgentRpcDeps["handOff"]) {
  const spec = parseDagSpec({
    dag_id: "ho",
    tasks: [
      { task_id: "a", operator: "bash", bash_command: "true" },
      { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
      { task_id: "f", operator: "bash", bash_command: "exit 3" },
    ],
  });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/ho.json", pausedOnCreate: false, now: new Date() });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null, run_id: "r1" }, new Date()));
  const handler = createAgentRpcHandler({
    store,
    tokens,
    logger: silentLogger,
    heartbeatIntervalSeconds: 1,
    onTaskStateChange: (id) => void nudged.push(id),
    handOff,
  });
  server = Bun.serve({ port: 0, fetch: async (req) => (await handler(req)) ?? new Response("not found", { status: 404 }) });
  const ti = async (task: string) => (await store.getTaskInstance("default", "ho", "r1", task))!;
  /** Queues `task` as the dispatch step would and runs a real agent on it; its exit code. */
  const runTask = async (task: string) => {
    const t = await ti(task);
    await store.applyTransitions(
      [
        { id: t.id, from: ["none"], to: "scheduled" },
        { id: t.id, from: ["scheduled"], to: "queued", patch: { queued_at: new Date() } },
      ],
      new Date(),
    );
    const token = await tokens.issue({ tiId: t.id, tryNumber: t.try_number, dagId: "ho", runId: "r1", taskId: task }, 300);
    return runAgent({ server: `http://127.0.0.1:${server!.port}`, token, logger: silentLogger, hostname: "it-host" });
  };
  return { run, ti, runTask };
}

/** The scheduler's side, recorded: b is the next task of a; settle answers `quiet`. */
function recordedHandOff(quiet: boolean) {
  const asked: number[] = [];
  const settled: boolean[] = [];
  const handOff: NonNullable<AgentRpcDeps["handOff"]> = (t) => {
    asked.push(t.id);
    const b = t.id + 1; // task instances are created in spec order: b follows a
    return {
      next: {
        scheduling: { id: b, from: ["none"], to: "scheduled" },
        queued: { id: b, from: ["scheduled"], to: "queued", try_number: 1, patch: { queued_at: new Date(), executor: "subprocess" } },
      },
      settle: async (applied) => (settled.push(applied), applied && quiet),
    };
  };
  return { handOff, asked, settled };
}

test("a success queues the chain's next task in the same write; the run is not nudged when the hand-off covers it", async () => {
  const rec = recordedHandOff(true);
  const { ti, runTask } = await setUp(rec.handOff);
  expect(await runTask("a")).toBe(0);
  expect((await ti("a")).state).toBe("success");
  expect(await ti("b")).toMatchObject({ state: "queued", executor: "subprocess" });
  expect(rec.asked).toEqual([(await ti("a")).id]);
  await Bun.sleep(10);
  expect(rec.settled).toEqual([true]);
  expect(nudged).toEqual([]);
});

test("a hand-off that does not cover the run (settle answers false) nudges it", async () => {
  const rec = recordedHandOff(false);
  const { run, ti, runTask } = await setUp(rec.handOff);
  expect(await runTask("a")).toBe(0);
  expect((await ti("b")).state).toBe("queued");
  await Bun.sleep(10);
  expect(nudged).toEqual([run.id]);
});

test("a failure asks for no hand-off and nudges its run", async () => {
  const rec = recordedHandOff(true);
  const { run, ti, runTask } = await setUp(rec.handOff);
  expect(await runTask("f")).toBe(1);
  expect((await ti("f")).state).toBe("failed");
  expect(rec.asked).toEqual([]);
  expect((await ti("b")).state).toBe("none");
  await Bun.sleep(10);
  expect(nudged).toEqual([run.id]);
});

test("a hand-off that cannot be chosen (it throws) leaves the report alone: success written, the run nudged", async () => {
  const { run, ti, runTask } = await setUp(() => {
    throw new Error("scheduler gone");
  });
  expect(await runTask("a")).toBe(0);
  expect((await ti("a")).state).toBe("success");
  expect((await ti("b")).state).toBe("none");
  await Bun.sleep(10);
  expect(nudged).toEqual([run.id]);
});
