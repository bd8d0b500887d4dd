/**
 * ReportState with a hand-off (AgentRpcDeps.handOff): a real agent against the real RPC service over HTTP, on
 * SQLite and Postgres; the scheduler's side is a double (a recorded hand-off naming the chain's next task). A success
 * queues the next task in the same write and the run is nudged only when the hand-off says so; a failure asks for
 * none; a hand-off that cannot be chosen leaves the report alone. The next task's XCom inputs are read beside
 * the report, and its Register answers them without reading again.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import { guardedStore, openStore, type Store } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";
import { createAgentRpcHandler, type AgentRpcDeps } from "../../src/rpc";
import { AgentTokens } from "../../src/auth/agent-token";
import { runAgent } from "../../src/agent";
import { silentLogger } from "../../src/observability/logger";
import { buildDagRun } from "../../src/scheduler/trigger";

const tokens = new AgentTokens("integration-test-secret-32-bytes");
let store: Store;
/** getXCom calls on the store, as the RPC makes them (the store is wrapped to count them). */
let xcomReads: number;
let server: ReturnType<typeof Bun.serve> | undefined;
let nudged: number[];

/** Each test's store, from `makeStore`, wrapped to count its XCom reads. */
function withStore(makeStore: () => Store) {
  beforeEach(async () => {
    const inner = makeStore();
    xcomReads = 0;
    store = new Proxy(inner, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (prop === "getXCom") return (...args: Parameters<Store["getXCom"]>) => (xcomReads++, target.getXCom(...args));
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    await store.migrate();
    nudged = [];
  });
  afterEach(async () => {
    server?.stop(true);
    await store.close();
  });
}

/** A run of a → b (b waits), a failing task f, and the RPC served with `handOff`. */
async function setUp(handOff: AgentRpcDeps["handOff"]) {
  const spec = parseDagSpec({
    dag_id: "ho",
    tasks: [
      { task_id: "a", operator: "bash", bash_command: `echo '{"rows": 3}' > "$LEOFLOW_RETURN_VALUE_PATH"` },
      // b hands on what it was given: a's return value, in its environment.
      { task_id: "b", operator: "bash", bash_command: `printf '%s' "$LEOFLOW_XCOM_A" > "$LEOFLOW_RETURN_VALUE_PATH"`, upstream: ["a"] },
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
  return { run, spec, ti, runTask };
}

type HandOffTask = NonNullable<ReturnType<NonNullable<AgentRpcDeps["handOff"]>>>["task"];

/** The scheduler's side, recorded: b is the next task of a; settle answers `quiet`; `task`: the next task as the scheduler has it. */
function recordedHandOff(quiet: boolean, task?: (endedId: number) => HandOffTask) {
  const asked: number[] = [];
  const settled: boolean[] = [];
  const handOff: NonNullable<AgentRpcDeps["handOff"]> = (t) => {
    asked.push(t.id);
    const b = t.id + 1; // task instances are created in spec order: b follows a
    return {
      ...(task?.(t.id) ? { task: task(t.id) } : {}),
      next: {
        scheduling: { id: b, from: ["none"], to: "scheduled" },
        queued: { id: b, from: ["scheduled"], to: "queued", try_number: 1, patch: { queued_at: new Date(), executor: "subprocess" } },
      },
      settle: async (applied) => (settled.push(applied), applied && quiet),
    };
  };
  return { handOff, asked, settled };
}

function suite(makeStore: () => Store) {
  withStore(makeStore);

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

  test("the next task's XCom inputs are read beside the report: its Register answers its upstream's return value unread", async () => {
    let named: Awaited<ReturnType<typeof setUp>> | undefined;
    let b: Awaited<ReturnType<Awaited<ReturnType<typeof setUp>>["ti"]>> | undefined;
    let a: number | undefined;
    const rec = recordedHandOff(true, (ended) => (ended === a ? { ti: b!, run: named!.run, spec: named!.spec } : undefined));
    named = await setUp(rec.handOff);
    a = (await named.ti("a")).id;
    b = await named.ti("b");
    expect(await named.runTask("a")).toBe(0);
    // a pushed its value before its report; the report's hand-off read it for b.
    expect(xcomReads).toBe(1);
    expect(await named.runTask("b")).toBe(0);
    expect(xcomReads).toBe(1);
    expect(
      (await store.getXCom({ team: "default", dag_id: "ho", run_id: "r1", task_id: "b", key: "return_value", map_index: -1 }))?.value,
    ).toEqual({
      rows: 3,
    });
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
}

describe("ReportState with a hand-off: sqlite", () => suite(() => openStore("sqlite::memory:")));

describePg("ReportState with a hand-off: postgres", () => {
  const schemas = freshSchemas();
  suite(() => guardedStore(new PostgresStore({ url: pgUrl(), schema: schemas.next(), max: 4 })));
});
