/**
 * Register and ReportState on both stores, through the RPC service over HTTP: the try the token names is
 * running with its agent's host and pid, and the answer carries the spec with its upstream's XCom; its log
 * lines are kept; its report ends it and wakes its run, once. What they cost the store is part of the contract, because an agent's start
 * and the next task wait for it: each write and the read of the task instance are one call (one round trip on
 * Postgres), and a run's DAG version is read once for all its tries. The server's own Register for a warm agent
 * (registerForAgent) starts and answers the same, and answers a try a chain's hand-off started without a call.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { guardedStore, openStore, type Store } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";
import { createAgentRpc, createAgentRpcHandler } from "../../src/rpc";
import { Code, ConnectError } from "@connectrpc/connect";
import { AgentTokens } from "../../src/auth/agent-token";
import { AgentRpcError, dial } from "../../src/agent";
import { silentLogger } from "../../src/observability/logger";
import { describePg, freshSchema, pgUrl } from "../support/postgres";

const tokens = new AgentTokens("register-test-secret-32-bytes!!!");
const T0 = new Date("2026-01-01T00:00:00Z");

function registerSuite(name: string, open: () => Promise<Store>) {
  describe(`Register and ReportState on ${name}`, () => {
    let store: Store;
    let server: ReturnType<typeof Bun.serve>;
    const calls: string[] = [];
    const woken: number[] = [];
    let runDbId = 0;
    let local: ReturnType<typeof createAgentRpc>["registerForAgent"];
    let piped: ReturnType<typeof createAgentRpc>;

    beforeAll(async () => {
      store = await open();
      await store.migrate();
      const spec = parseDagSpec({
        dag_id: "reg",
        tasks: [
          { task_id: "a", operator: "bash", bash_command: "true" },
          { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
          { task_id: "c", operator: "bash", bash_command: "true", upstream: ["a"] },
          { task_id: "d", operator: "bash", bash_command: "true" },
          { task_id: "e", operator: "bash", bash_command: "true", upstream: ["a"] },
          { task_id: "f", operator: "bash", bash_command: "true", upstream: ["a"] },
          { task_id: "g", operator: "bash", bash_command: "true" },
          { task_id: "h", operator: "bash", bash_command: "true" },
        ],
      });
      const dag = await store.upsertDag("default", { spec, fileloc: "/dags/reg.json", pausedOnCreate: false, now: T0 });
      const run = await store.createDagRun({
        team: "default",
        dag_id: "reg",
        run_id: "r1",
        run_type: "manual",
        logical_date: null,
        data_interval_start: null,
        data_interval_end: null,
        conf: {},
        version_id: dag.version_id,
        queued_at: T0,
        tasks: spec.tasks.map((t) => ({
          task_id: t.task_id,
          operator: "bash",
          max_tries: 0,
          pool: "default_pool",
          pool_slots: 1,
          priority_weight: 1,
        })),
      });
      runDbId = run.id;
      await store.setXCom(
        { team: "default", dag_id: "reg", run_id: "r1", task_id: "a", map_index: -1, key: "return_value" },
        { rows: 3 },
        T0,
      );
      // The service's store, counting the calls it makes.
      const counted = new Proxy(store, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? (...args: unknown[]) => (calls.push(String(prop)), v.apply(target, args)) : v;
        },
      });
      const handler = createAgentRpcHandler({
        store: counted,
        tokens,
        logger: silentLogger,
        heartbeatIntervalSeconds: 5,
        onTaskStateChange: (id) => void woken.push(id),
      });
      server = Bun.serve({ port: 0, fetch: async (req) => (await handler(req)) ?? new Response("", { status: 404 }) });
      piped = createAgentRpc({
        store: counted,
        tokens,
        logger: silentLogger,
        heartbeatIntervalSeconds: 5,
        onTaskStateChange: (id) => void woken.push(id),
      });
      local = piped.registerForAgent;
    });
    afterAll(async () => {
      server?.stop(true);
      await store?.close();
    });

    async function queued(taskId: string): Promise<{ ti: TaskInstanceRecord; token: string }> {
      const ti = (await store.getTaskInstance("default", "reg", "r1", taskId))!;
      await store.applyTransitions(
        [
          { id: ti.id, from: ["none"], to: "scheduled" },
          { id: ti.id, from: ["scheduled"], to: "queued", patch: { queued_at: T0 } },
        ],
        T0,
      );
      const token = await tokens.issue({ tiId: ti.id, tryNumber: ti.try_number, dagId: "reg", runId: "r1", taskId }, 300);
      return { ti, token };
    }
    const agent = (token: string) => dial(`http://127.0.0.1:${server.port}`, token, { sleep: async () => {} });

    test("the try runs with its agent's host and pid; the spec carries the upstream's XCom", async () => {
      const { ti, token } = await queued("b");
      const res = await agent(token).register({ hostname: "worker-7", pid: 4321, includeSpec: true });
      expect(res).toMatchObject({ dagId: "reg", runId: "r1", taskId: "b", tryNumber: 1 });
      expect(res.spec).toMatchObject({ taskId: "b", dagFile: "/dags/reg.json", xcomInputs: { A: '{"rows":3}' } });
      const after = (await store.getTaskInstanceById(ti.id))!;
      expect(after).toMatchObject({ state: "running", hostname: "worker-7", pid: 4321, dag_run_id: runDbId });
      expect(after.start_date).not.toBeNull();
      // Again (a retried Register): the same answer, nothing changed.
      expect((await agent(token).register({ hostname: "other", pid: 1, includeSpec: false })).taskId).toBe("b");
      expect(await store.getTaskInstanceById(ti.id)).toEqual(after);
    });

    test("a start is one store call, and the run's DAG version is read once for all its tries", async () => {
      const { token } = await queued("c");
      calls.length = 0;
      await agent(token).register({ hostname: "h", pid: 1, includeSpec: true });
      expect(calls.filter((c) => c === "startTry" || c === "getTaskInstanceById" || c === "applyTransitions")).toEqual(["startTry"]);
      expect(calls).not.toContain("getDagVersion"); // read by b's Register already
    });

    test("its log lines and its report are one store call each; the report wakes its run once; a resend changes nothing", async () => {
      const { ti, token } = await queued("a");
      const client = agent(token);
      await client.register({ hostname: "h", pid: 1 });
      calls.length = 0;
      woken.length = 0;
      await client.appendLogs({ firstSeq: 0, lines: [{ timestampMs: T0.getTime(), stream: "stdout", line: "hello" }] });
      expect(await client.reportState({ state: "failed", exitCode: 3, error: "" })).toEqual({ state: "failed" });
      expect(calls).toEqual(["appendTryLogs", "finishTry"]);
      expect((await store.readLogs(ti.id, 1)).map((l) => l.line)).toEqual(["hello"]);
      expect(woken).toEqual([runDbId]);
      const after = await store.getTaskInstanceById(ti.id);
      expect(after).toMatchObject({ state: "failed", note: "exit code 3" });
      expect(await client.reportState({ state: "success", exitCode: 0, error: "" })).toEqual({ state: "failed" });
      expect(woken).toEqual([runDbId]);
      expect(await store.getTaskInstanceById(ti.id)).toEqual(after);
    });

    test("the server's Register for a warm agent: the same start and answer as over the RPC, in one store call", async () => {
      const { ti, token } = await queued("e");
      calls.length = 0;
      const res = await local(token, { hostname: "host-1", pid: 77 }, T0);
      expect(res).toMatchObject({
        dagId: "reg",
        runId: "r1",
        taskId: "e",
        tryNumber: 1,
        heartbeatIntervalSeconds: 5,
        reportTakesLogs: true,
      });
      expect(res.spec).toMatchObject({ taskId: "e", dagFile: "/dags/reg.json", xcomInputs: { A: '{"rows":3}' } });
      expect(await store.getTaskInstanceById(ti.id)).toMatchObject({ state: "running", hostname: "host-1", pid: 77, start_date: T0 });
      // Its DAG version is read once (this RPC instance, the HTTP handler's twin, has not read it before).
      expect(calls.filter((c) => c !== "getXCom" && c !== "listMappedXComs")).toEqual(["startTry", "getDagVersion"]);
    });

    test("a try a chain's hand-off started is answered from its records: no store call", async () => {
      const ti0 = (await store.getTaskInstance("default", "reg", "r1", "f"))!;
      const startPatch = { start_date: T0, last_heartbeat: T0, hostname: "leader", pid: null, queued_at: T0 };
      await store.applyTransitions(
        [
          { id: ti0.id, from: ["none"], to: "scheduled" },
          { id: ti0.id, from: ["scheduled"], to: "running", patch: startPatch },
        ],
        T0,
      );
      const ti = (await store.getTaskInstanceById(ti0.id))!;
      const run = (await store.getDagRunById(ti.dag_run_id))!;
      const token = await tokens.issue({ tiId: ti.id, tryNumber: 1, dagId: "reg", runId: "r1", taskId: "f" }, 300);
      calls.length = 0;
      const res = await local(token, { hostname: "host-1", pid: 77 }, T0, { ti, run, dagFile: "/dags/reg.json" });
      expect(res.spec).toMatchObject({ taskId: "f", tryNumber: 1, dagFile: "/dags/reg.json" });
      // Only the upstream's XCom is read (the spec carries it; the version is held); nothing is written or read back.
      expect(calls.filter((c) => c !== "getXCom" && c !== "listMappedXComs")).toEqual([]);
      expect(await store.getTaskInstanceById(ti.id)).toEqual(ti);
    });

    test("the server's Register refuses a bad token as Unauthenticated and a stale try as FailedPrecondition", async () => {
      const bad = await local("not-a-token", { hostname: "h", pid: 1 }, T0).catch((e: unknown) => e);
      expect([bad instanceof ConnectError, (bad as ConnectError).code]).toEqual([true, Code.Unauthenticated]);
      const { ti, token } = await queued("g");
      await store.applyTransitions([{ id: ti.id, from: ["queued"], to: "failed", patch: { note: "marked" } }], T0);
      const stale = await local(token, { hostname: "h", pid: 1 }, T0).catch((e: unknown) => e);
      expect([stale instanceof ConnectError, (stale as ConnectError).code]).toEqual([true, Code.FailedPrecondition]);
      expect(await store.getTaskInstanceById(ti.id)).toMatchObject({ state: "failed", hostname: null });
    });

    test("a report on a warm agent's pipe: the same handler, one store call, its run woken; a bad body is refused", async () => {
      const { ti, token } = await queued("h");
      await local(token, { hostname: "host-1", pid: 77 }, T0);
      const id = { tiId: ti.id, tryNumber: 1, dagId: "reg", runId: "r1", taskId: "h" };
      calls.length = 0;
      woken.length = 0;
      const body = {
        state: "success",
        exitCode: 0,
        error: "",
        logFirstSeq: "0",
        logLines: [{ timestampMs: "1", stream: "stdout", line: "bye" }],
      };
      expect(await piped.reportForAgent(id, body)).toEqual({ ok: true, answer: { state: "success" } });
      expect(calls).toEqual(["finishTry"]);
      expect(woken).toEqual([runDbId]);
      expect((await store.readLogs(ti.id, 1)).map((l) => l.line)).toEqual(["bye"]);
      // Again (a resend): the state it has, nothing changed.
      expect(await piped.reportForAgent(id, body)).toEqual({ ok: true, answer: { state: "success" } });
      expect(await piped.reportForAgent(id, { state: "exploded", exitCode: 0, error: "" })).toMatchObject({
        ok: false,
        code: "invalid_argument",
      });
      expect(await piped.reportForAgent(id, { state: 5 })).toMatchObject({ ok: false, code: "invalid_argument" });
    });

    test("a try no longer queued is refused, and stays as it is", async () => {
      const { ti, token } = await queued("d");
      await store.applyTransitions([{ id: ti.id, from: ["queued"], to: "failed", patch: { note: "reaped" } }], T0);
      const err = await agent(token)
        .register({ hostname: "h", pid: 1 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgentRpcError);
      expect((err as AgentRpcError).code).toBe("failed_precondition");
      expect(await store.getTaskInstanceById(ti.id)).toMatchObject({ state: "failed", note: "reaped", hostname: null });
    });
  });
}

registerSuite("sqlite", async () => openStore("sqlite::memory:"));
describePg("Postgres", () => {
  const schema = freshSchema();
  registerSuite("postgres", async () => guardedStore(new PostgresStore({ url: pgUrl(), schema, max: 4 })));
});
