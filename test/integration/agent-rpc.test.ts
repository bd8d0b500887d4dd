/**
 * The agent against the real control-plane RPC service over HTTP, backed by a real SqliteStore: what a user
 * sees afterwards in the store (states, notes, logs, XComs) is what we assert.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import type { TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { openStore, type Store } from "../../src/store";
import { createAgentRpcHandler } from "../../src/rpc";
import { AgentTokens } from "../../src/auth/agent-token";
import { AgentRpcError, dial, runAgent } from "../../src/agent";
import { silentLogger } from "../../src/observability/logger";
import { overriding } from "../../src/store/decorate";

const SECRET = "integration-test-secret-32-bytes";
const dir = mkdtempSync(join(tmpdir(), "leoflow-agent-it-"));
const dagFile = join(dir, "dag.json");
const rawDag = {
  dag_id: "agent_it",
  params: { limit: { type: "integer", default: 10 } },
  tasks: [
    {
      task_id: "extract",
      operator: "bash",
      env: { GREETING: "hello" },
      bash_command:
        'echo "$GREETING from $LEOFLOW_TASK_ID try $LEOFLOW_TRY_NUMBER"; echo oops >&2; echo "params=$LEOFLOW_PARAMS"; echo \'{"rows": 42}\' > "$LEOFLOW_RETURN_VALUE_PATH"',
    },
    {
      task_id: "load",
      operator: "bash",
      upstream: ["extract"],
      bash_command: 'echo "got $LEOFLOW_XCOM_EXTRACT"; printf %s "$LEOFLOW_XCOM_EXTRACT" > "$LEOFLOW_RETURN_VALUE_PATH"',
    },
    { task_id: "fail3", operator: "bash", bash_command: "echo about to fail; exit 3" },
    { task_id: "skip99", operator: "bash", bash_command: "exit 99" },
    { task_id: "py99", operator: "python", python_code: "import sys; sys.exit(99)" },
    { task_id: "bad_rv", operator: "bash", bash_command: 'echo "rows=42" > "$LEOFLOW_RETURN_VALUE_PATH"' },
    { task_id: "binary", operator: "bash", bash_command: "head -c 4096 /dev/urandom; printf '\\xff\\xfe\\n'; echo after-binary" },
    { task_id: "background", operator: "bash", bash_command: "sleep 30 & echo started-bg" },
    { task_id: "timeout", operator: "bash", execution_timeout: 1, bash_command: "echo sleeping; sleep 30" },
    { task_id: "killed", operator: "bash", bash_command: "kill -9 $$" },
    { task_id: "cancelled", operator: "bash", bash_command: "echo waiting; sleep 30" },
    { task_id: "spare", operator: "bash", bash_command: "true" },
    { task_id: "spec_from_start", operator: "bash", bash_command: "true" },
    { task_id: "done_already", operator: "bash", bash_command: "true" },
    { task_id: "finished_try", operator: "bash", bash_command: "true" },
    { task_id: "superseded", operator: "bash", retries: 1, bash_command: "true" },
    { task_id: "long_runner", operator: "bash", bash_command: "true" },
    { task_id: "final_fail", operator: "bash", retries: 2, bash_command: "true" },
    { task_id: "cleared_mid_push", operator: "bash", bash_command: "true" },
    { task_id: "own_lines", operator: "bash", bash_command: "true" },
    {
      task_id: "resched",
      operator: "sensor",
      sensor: { kind: "bash", bash_command: "exit 75" },
      mode: "reschedule",
      poke_interval: 30,
      timeout: 3600,
      retries: 1,
    },
    {
      task_id: "long_lines",
      operator: "bash",
      bash_command: `awk 'BEGIN { s = sprintf("%65000s", ""); gsub(/ /, "a", s); for (i = 0; i < 100; i++) print s }'`,
    },
  ],
};

let store: Store;
let server: ReturnType<typeof Bun.serve>;
let url: string;
let runDbId = 0;
const tokens = new AgentTokens(SECRET);
const nudged: number[] = [];
const now = () => new Date();

beforeAll(async () => {
  writeFileSync(dagFile, JSON.stringify(rawDag));
  store = openStore("sqlite::memory:", { xcomMaxBytes: 1024 });
  await store.migrate();
  const spec = parseDagSpec(rawDag);
  const dag = await store.upsertDag("default", { spec, fileloc: dagFile, pausedOnCreate: false, now: now() });
  const run = await store.createDagRun({
    team: dag.team,
    dag_id: spec.dag_id,
    run_id: "manual__it",
    run_type: "manual",
    logical_date: new Date("2026-01-01T00:00:00Z"),
    data_interval_start: null,
    data_interval_end: null,
    conf: { limit: 5 },
    version_id: dag.version_id,
    queued_at: now(),
    tasks: spec.tasks.map((t) => ({
      task_id: t.task_id,
      operator: t.operator,
      max_tries: t.retries,
      pool: t.pool,
      pool_slots: t.pool_slots,
      priority_weight: t.priority_weight,
    })),
  });
  runDbId = run.id;
  const handler = createAgentRpcHandler({
    store,
    tokens,
    logger: silentLogger,
    heartbeatIntervalSeconds: 1,
    renewTokenTtlSeconds: 3600,
    onTaskStateChange: (id) => void nudged.push(id),
  });
  server = Bun.serve({ port: 0, fetch: async (req) => (await handler(req)) ?? new Response("not found", { status: 404 }) });
  url = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  server?.stop(true);
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ti(taskId: string): Promise<TaskInstanceRecord> {
  return (await store.getTaskInstance("default", "agent_it", "manual__it", taskId))!;
}

/** Schedules then queues a task instance (none -> scheduled -> queued) as the scheduler and dispatcher would, and mints its token. */
async function queue(taskId: string): Promise<{ ti: TaskInstanceRecord; token: string }> {
  const t = await ti(taskId);
  expect(await store.applyTransitions([{ id: t.id, from: ["none"], to: "scheduled" }], now())).toEqual([true]);
  expect(await store.applyTransitions([{ id: t.id, from: ["scheduled"], to: "queued", patch: { queued_at: now() } }], now())).toEqual([
    true,
  ]);
  const token = await tokens.issue({ tiId: t.id, tryNumber: t.try_number, dagId: t.dag_id, runId: t.run_id, taskId: t.task_id }, 300);
  return { ti: t, token };
}

async function run(taskId: string): Promise<{ exit: number; ti: TaskInstanceRecord; logs: string[] }> {
  const q = await queue(taskId);
  const exit = await runAgent({ server: url, token: q.token, logger: silentLogger, hostname: "it-host" });
  const logs = await store.readLogs(q.ti.id, 1);
  expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i));
  return { exit, ti: await ti(taskId), logs: logs.map((l) => `${l.stream}: ${l.line}`) };
}

const xcom = async (taskId: string) =>
  (await store.getXCom({ team: "default", dag_id: "agent_it", run_id: "manual__it", task_id: taskId, key: "return_value" }))?.value;

describe("agent ↔ control plane", () => {
  test("a bash task runs: success, its logs in order, its return value as XCom", async () => {
    const r = await run("extract");
    expect(r.exit).toBe(0);
    expect(r.ti.state).toBe("success");
    expect(r.ti.hostname).toBe("it-host");
    expect(r.ti.start_date).toBeInstanceOf(Date);
    expect(r.ti.end_date).toBeInstanceOf(Date);
    expect(r.logs).toContain("stdout: hello from extract try 1");
    expect(r.logs).toContain("stderr: oops");
    expect(r.logs).toContain('stdout: params={"limit":5}');
    expect(r.logs[0]).toStartWith("agent: leoflow agent on it-host");
    expect(r.logs.at(-1)).toMatch(/^agent: exit code 0 after \d+\.\d\ds$/);
    expect(await xcom("extract")).toEqual({ rows: 42 });
    expect(nudged).toContain(runDbId);
  });

  test("a downstream task gets LEOFLOW_XCOM_<UPSTREAM>", async () => {
    const r = await run("load");
    expect(r.ti.state).toBe("success");
    expect(r.logs).toContain('stdout: got {"rows":42}');
    expect(await xcom("load")).toEqual({ rows: 42 });
  });

  test("exit 3 → failed with 'exit code 3'", async () => {
    const r = await run("fail3");
    expect(r.exit).toBe(1);
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toBe("exit code 3");
    expect(r.logs).toContain("stdout: about to fail");
  });

  test("exit 99 → skipped", async () => {
    const r = await run("skip99");
    expect(r.exit).toBe(0);
    expect(r.ti.state).toBe("skipped");
  });

  test("a python task's exit 99 is a failure (only bash and sensors skip on it, as in Airflow)", async () => {
    const r = await run("py99");
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toBe("exit code 99");
  });

  test("an invalid return value fails the task with the parser's message", async () => {
    const r = await run("bad_rv");
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toMatch(/^return value in \$LEOFLOW_RETURN_VALUE_PATH is not valid JSON: .+; write JSON/);
    expect(await xcom("bad_rv")).toBeUndefined();
  });

  test("binary output does not break logs", async () => {
    const r = await run("binary");
    expect(r.ti.state).toBe("success");
    expect(r.logs).toContain("stdout: after-binary");
    expect(r.logs.some((l) => l.includes("\uFFFD"))).toBe(true);
  });

  test("a burst of 64 KB lines arrives whole: log batches stay under the RPC body limit", async () => {
    const r = await run("long_lines");
    expect(r.ti.state).toBe("success");
    expect(r.logs.filter((l) => l === `stdout: ${"a".repeat(65000)}`)).toHaveLength(100);
  });

  test("a background child does not keep the task running", async () => {
    const r = await run("background");
    expect(r.ti.state).toBe("success");
    expect(r.logs).toContain("stdout: started-bg");
  });

  test("execution_timeout kills the task and fails it", async () => {
    const r = await run("timeout");
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toBe("execution_timeout: task ran longer than 1s");
    expect(r.logs).toContain("stdout: sleeping");
    expect(r.logs.some((l) => l.startsWith("agent: killed by SIGTERM"))).toBe(true);
  });

  test("marked failed while running: the heartbeat stops the process, the mark stands, the try's log is closed", async () => {
    const q = await queue("cancelled");
    const agent = runAgent({ server: url, token: q.token, logger: silentLogger });
    // Wait until the user process is running (its first line is stored): a condition, not a timing guess.
    while (!(await store.readLogs(q.ti.id, 1)).some((l) => l.line === "waiting")) await Bun.sleep(5);
    await store.applyTransitions(
      [{ id: q.ti.id, from: ["running"], to: "failed", patch: { end_date: now(), note: "marked failed by admin" } }],
      now(),
    );
    expect(await agent).toBe(1);
    const after = await ti("cancelled");
    expect(after.state).toBe("failed");
    expect(after.note).toBe("marked failed by admin");
    // `sleep 30` was stopped (else this test would time out); what the agent says after the mark is refused:
    // a try's log takes no lines once the try is over.
    const logs = (await store.readLogs(q.ti.id, 1)).map((l) => l.line);
    expect(logs).toContain("waiting");
    expect(logs.some((l) => l.startsWith("stopping the task"))).toBe(false);
  });

  test("killed by a signal → failed 'killed by SIGKILL'", async () => {
    const r = await run("killed");
    expect(r.ti.state).toBe("failed");
    expect(r.ti.note).toBe("killed by SIGKILL");
  });
});

describe("the rpc service refuses what it must", () => {
  const code = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => new Error("call succeeded"),
      (e) => e,
    );
    if (!(e instanceof AgentRpcError)) throw e;
    return [e.code, e.rawMessage] as const;
  };

  test("a token whose claims name another task instance → PermissionDenied", async () => {
    const spare = await ti("spare");
    const forged = await tokens.issue({ tiId: spare.id, tryNumber: 1, dagId: "agent_it", runId: "manual__it", taskId: "extract" }, 60);
    const [c, msg] = await code(dial(url, forged).register({}));
    expect(c).toBe("permission_denied");
    expect(msg).toContain("agent token is for agent_it/manual__it/extract but task instance");
  });

  test("a token for an unknown task instance → PermissionDenied", async () => {
    const t = await tokens.issue({ tiId: 999_999, tryNumber: 1, dagId: "agent_it", runId: "manual__it", taskId: "x" }, 60);
    const [c, msg] = await code(dial(url, t).heartbeat({}));
    expect(c).toBe("permission_denied");
    expect(msg).toContain("does not exist");
  });

  test("no token, a user token, a foreign token → Unauthenticated", async () => {
    expect((await code(dial(url, "").register({})))[0]).toBe("unauthenticated");
    const user = await new SignJWT({ kind: "user" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("leoflow")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    const [c, msg] = await code(dial(url, user).register({}));
    expect(c).toBe("unauthenticated");
    expect(msg).toContain("not an agent token");
    const foreign = await new AgentTokens("some-other-control-plane-secret!").issue(
      { tiId: 1, tryNumber: 1, dagId: "agent_it", runId: "manual__it", taskId: "extract" },
      60,
    );
    const [c2, msg2] = await code(dial(url, foreign).register({}));
    expect(c2).toBe("unauthenticated");
    expect(msg2).toContain("signature is invalid");
  });

  test("a stale agent: Register on a finished task instance → FailedPrecondition; runAgent exits 2", async () => {
    const t = await ti("done_already");
    await store.applyTransitions([{ id: t.id, from: ["none"], to: "success", patch: { end_date: now() } }], now());
    const token = await tokens.issue({ tiId: t.id, tryNumber: 1, dagId: t.dag_id, runId: t.run_id, taskId: t.task_id }, 60);
    const [c, msg] = await code(dial(url, token).register({}));
    expect(c).toBe("failed_precondition");
    expect(msg).toBe("task instance agent_it/manual__it/done_already is success on try 1; this agent's try 1 is stale");
    expect((await code(dial(url, token).register({ includeSpec: true })))[0]).toBe("failed_precondition");
    expect(await runAgent({ server: url, token, logger: silentLogger })).toBe(2);
  });

  test("Register is idempotent; ReportState resends answer the stored state; Heartbeat says stop once done", async () => {
    const { ti: t, token } = await queue("spare");
    const client = dial(url, token);
    const first = await client.register({ hostname: "a", pid: 1 });
    const again = await client.register({ hostname: "a", pid: 1 });
    expect(again).toEqual(first);
    expect(first.heartbeatIntervalSeconds).toBe(1);
    expect(first.reportTakesLogs).toBe(true);
    expect((await client.heartbeat({})).shouldStop).toBe(false);

    const spec = await client.getTaskSpec({});
    expect(spec.env.LEOFLOW_LOGICAL_DATE).toBe("2026-01-01T00:00:00.000Z");
    expect(spec.dagFile).toBe(dagFile);
    expect(JSON.parse(spec.paramsJson)).toEqual({ limit: 5 });
    // Asked with includeSpec, Register answers what GetTaskSpec does (runAgent asks so); unasked, nothing.
    expect(first.spec).toBeUndefined();
    expect((await client.register({ hostname: "a", pid: 1, includeSpec: true })).spec).toEqual(spec);

    // PushXCom: not JSON → InvalidArgument; over the store's limit → ResourceExhausted.
    const [c1, m1] = await code(client.pushXCom({ key: "return_value", valueJson: "{nope" }));
    expect(c1).toBe("invalid_argument");
    expect(m1).toContain("XCom return_value of task spare is not valid JSON");
    const [c2, m2] = await code(client.pushXCom({ key: "big", valueJson: JSON.stringify("x".repeat(5000)) }));
    expect(c2).toBe("resource_exhausted");
    expect(m2).toContain("limit");

    // Log batches are idempotent by sequence number.
    const line = { timestampMs: Date.now(), stream: "stdout", line: "once" };
    await client.appendLogs({ firstSeq: 0, lines: [line] });
    await client.appendLogs({ firstSeq: 0, lines: [line] });
    expect((await store.readLogs(t.id, 1)).map((l) => l.line)).toEqual(["once"]);

    // The last lines ride on the report: a time that is no date is refused with the line, and nothing changes.
    const last = (text: string, timestampMs = Date.now()) => ({ firstSeq: 1, lines: [{ timestampMs, stream: "agent", line: text }] });
    const [c0, m0] = await code(client.reportState({ state: "success", exitCode: 0, error: "", logs: last("bad", 9e15) }));
    expect(c0).toBe("invalid_argument");
    expect(m0).toContain("log line 1 has no valid time");
    expect((await ti("spare")).state).toBe("running");
    expect((await client.reportState({ state: "success", exitCode: 0, error: "", logs: last("exit code 0") })).state).toBe("success");
    expect((await client.reportState({ state: "success", exitCode: 0, error: "", logs: last("resent") })).state).toBe("success");
    expect((await client.reportState({ state: "failed", exitCode: 1, error: "late" })).state).toBe("success");
    expect((await ti("spare")).state).toBe("success");
    expect((await store.readLogs(t.id, 1)).map((l) => l.line)).toEqual(["once", "exit code 0"]);
    const hb = await client.heartbeat({});
    expect(hb.shouldStop).toBe(true);
    expect(hb.reason).toContain("is now success");
    const [c3] = await code(client.reportState({ state: "running", exitCode: 0, error: "" }));
    expect(c3).toBe("invalid_argument");
  });

  test("Register's spec, built from the run and DAG file its start read, is what GetTaskSpec answers", async () => {
    const client = dial(url, (await queue("spec_from_start")).token);
    const reg = await client.register({ hostname: "a", pid: 1, includeSpec: true });
    expect(reg.spec!.dagFile).toBe(dagFile);
    expect(reg.spec!.env.LEOFLOW_LOGICAL_DATE).toBe("2026-01-01T00:00:00.000Z");
    expect(reg.spec).toEqual(await client.getTaskSpec({}));
  });

  test("ReportState final fails without spending retries; up_for_reschedule only for a sensor in mode reschedule", async () => {
    const plain = dial(url, (await queue("final_fail")).token);
    await plain.register({ hostname: "a", pid: 1 });
    const [c, m] = await code(plain.reportState({ state: "up_for_reschedule", exitCode: 75, error: "" }));
    expect(c).toBe("invalid_argument");
    expect(m).toContain('ReportState up_for_reschedule is only for a bash or ts sensor in mode reschedule; task "final_fail" is not one');
    expect((await plain.reportState({ state: "failed", exitCode: 98, error: "sensor timed out", final: true })).state).toBe("failed");
    expect(await ti("final_fail")).toMatchObject({ state: "failed", try_number: 1, max_tries: 0 });

    const { token } = await queue("resched");
    const sensor = dial(url, token);
    await sensor.register({ hostname: "a", pid: 1 });
    expect((await sensor.getTaskSpec({})).logSeqStart).toBe("0");
    expect((await sensor.reportState({ state: "up_for_reschedule", exitCode: 75, error: "" })).state).toBe("up_for_reschedule");
    const waiting = await ti("resched");
    expect(waiting).toMatchObject({ state: "up_for_reschedule", try_number: 1 });
    expect(waiting.note).toStartWith("sensor bash waiting; next check ");
    expect(await store.getSensorProgress(waiting.id)).toEqual({ started_at: waiting.start_date, checks: 1 });
  });

  test("a finished try's token can no longer write or read secrets; resends and heartbeats still answer", async () => {
    const { ti: t, token } = await queue("finished_try");
    const client = dial(url, token);
    await client.register({});
    await client.pushXCom({ key: "return_value", valueJson: '"real"' });
    expect((await client.reportState({ state: "success", exitCode: 0, error: "" })).state).toBe("success");

    for (const [name, call] of [
      // Thunks, called one at a time: a call started early could be refused before anything awaits it.
      ["PushXCom", () => client.pushXCom({ key: "return_value", valueJson: '"forged"' })],
      ["AppendLogs", () => client.appendLogs({ firstSeq: 0, lines: [{ timestampMs: Date.now(), stream: "stdout", line: "forged" }] })],
      ["GetTaskSpec", () => client.getTaskSpec({})],
      ["GetVariable", () => client.getVariable({ key: "anything" })],
      ["GetConnection", () => client.getConnection({ connId: "anything" })],
    ] as const) {
      const [c, msg] = await code(call());
      expect(c).toBe("permission_denied");
      expect(msg).toBe(
        `${name} refused: task instance agent_it/manual__it/finished_try try 1 is success, no longer queued or running; an agent token is valid only while its try is queued or running`,
      );
    }
    expect(await xcom("finished_try")).toBe("real");
    expect(await store.readLogs(t.id, 1)).toEqual([]);
    // An agent that lost the answer to its ReportState resends it and is told the state; its heartbeat says stop.
    expect((await client.reportState({ state: "success", exitCode: 0, error: "" })).state).toBe("success");
    expect((await client.heartbeat({})).shouldStop).toBe(true);
  });

  test("a task that sends its own lines past --task-log-max-bytes gets one note in its log; the rest is dropped", async () => {
    // The agent stops shipping at its own cap; a task holding its try's token may call AppendLogs itself.
    const { ti: t, token } = await queue("own_lines");
    const handler = createAgentRpcHandler({
      store,
      tokens,
      logger: silentLogger,
      heartbeatIntervalSeconds: 1,
      maxTryLogBytes: 1024 * 1024,
      onTaskStateChange: () => {},
    });
    const capped = Bun.serve({ port: 0, fetch: async (req) => (await handler(req)) ?? new Response("not found", { status: 404 }) });
    try {
      const client = dial(`http://127.0.0.1:${capped.port}`, token);
      await client.register({});
      const kib = "x".repeat(1018); // with "stdout", 1,024 bytes a line: 1,024 lines fill the log
      const batch = (from: number) => ({
        firstSeq: from,
        lines: Array.from({ length: 500 }, () => ({ timestampMs: Date.now(), stream: "stdout", line: kib })),
      });
      for (let from = 0; from < 3000; from += 500) await client.appendLogs(batch(from)); // every call succeeds
      expect((await client.reportState({ state: "success", exitCode: 0, error: "" })).state).toBe("success");
      const log = await store.readLogs(t.id, 1, -1, 5000);
      expect(log.length).toBe(1025);
      expect(log.slice(0, 1024).every((l) => l.line === kib)).toBe(true);
      expect(log[1024]).toMatchObject({
        seq: 1024,
        stream: "leoflow",
        line: "this try's log reached the control plane's limit of 1048576 bytes (--task-log-max-bytes) at line 1024; the rest of its lines are dropped",
      });
    } finally {
      capped.stop(true);
    }
  });

  test("a PushXCom whose try is cleared between the service's check and the write stores nothing", async () => {
    const { ti: t, token } = await queue("cleared_mid_push");
    // The clear lands just before the store's write (as a user's clear racing the agent's push would): the write
    // itself finds the try no longer live, so the value the clear deleted is not brought back.
    const racing = overriding(store, {
      pushTryXCom: async (...args) => {
        const clear = { id: t.id, from: "running" as const, from_try: 1, try_number: 2, max_tries: 0 };
        expect((await store.applyOperatorChange({ clears: [clear] }, now())).clears).toEqual([true]);
        return store.pushTryXCom(...args);
      },
    });
    const handler = createAgentRpcHandler({
      store: racing,
      tokens,
      logger: silentLogger,
      heartbeatIntervalSeconds: 1,
      onTaskStateChange: () => {},
    });
    const racingServer = Bun.serve({ port: 0, fetch: async (req) => (await handler(req)) ?? new Response("not found", { status: 404 }) });
    try {
      const client = dial(`http://127.0.0.1:${racingServer.port}`, token);
      await client.register({});
      const [c, msg] = await code(client.pushXCom({ key: "return_value", valueJson: '"from the cleared try"' }));
      expect(c).toBe("permission_denied");
      expect(msg).toContain("PushXCom refused: task instance agent_it/manual__it/cleared_mid_push");
      expect(await xcom("cleared_mid_push")).toBeUndefined();
    } finally {
      racingServer.stop(true);
    }
  });

  test("a superseded try's token is refused while the next try runs", async () => {
    const { ti: t, token: oldToken } = await queue("superseded");
    // Try 1 is reaped and retried: the task instance runs try 2 now.
    await store.applyTransitions(
      [{ id: t.id, from: ["queued"], to: "up_for_retry", patch: { end_date: now(), note: "dispatch_lost" } }],
      now(),
    );
    for (const [from, to, patch] of [
      ["up_for_retry", "none", { try_number: 2 }],
      ["none", "scheduled", {}],
      ["scheduled", "queued", { queued_at: now() }],
    ] as const)
      expect(await store.applyTransitions([{ id: t.id, from: [from], to, patch }], now())).toEqual([true]);
    const now2 = await ti("superseded");
    expect(now2.try_number).toBe(2);
    const [c, msg] = await code(
      dial(url, oldToken).appendLogs({ firstSeq: 0, lines: [{ timestampMs: Date.now(), stream: "stdout", line: "late" }] }),
    );
    expect(c).toBe("permission_denied");
    expect(msg).toContain("task instance agent_it/manual__it/superseded is on try 2 (queued); this token's try 1 is over");
    expect(await store.readLogs(t.id, 1)).toEqual([]);
  });

  test("a running try's renewable token is renewed on heartbeat past half its life, and the agent switches to it", async () => {
    const { ti: t } = await queue("long_runner");
    const id = { tiId: t.id, tryNumber: 1, dagId: t.dag_id, runId: t.run_id, taskId: t.task_id };
    const sent: string[] = [];
    const recording = ((input: RequestInfo | URL, init?: RequestInit) => {
      sent.push(new Headers(init?.headers).get("authorization") ?? "");
      return fetch(input, init);
    }) as typeof fetch;
    const first = await tokens.issue({ ...id, renewable: true }, 600); // 600 s left of 3600: past half its life
    const client = dial(url, first, { fetch: recording });
    await client.register({});
    const hb = await client.heartbeat({});
    expect(hb.renewedToken).not.toBe("");
    const renewed = await tokens.verifyWithExpiry(hb.renewedToken);
    expect(renewed.id).toEqual({ ...id, renewable: true });
    expect(renewed.expiresAt.getTime() - Date.now()).toBeGreaterThan(3500_000);
    expect((await client.heartbeat({})).renewedToken).toBe(""); // fresh: nothing to renew
    expect(sent.at(-1)).toBe(`Bearer ${hb.renewedToken}`);
    // A token with a deadline (execution_timeout) is never renewed, however close it is.
    expect((await dial(url, await tokens.issue(id, 30)).heartbeat({})).renewedToken).toBe("");
    expect((await client.reportState({ state: "success", exitCode: 0, error: "" })).state).toBe("success");
  });

  test("paths outside the service are left to the rest of the server", async () => {
    const handler = createAgentRpcHandler({ store, tokens, logger: silentLogger, heartbeatIntervalSeconds: 1, onTaskStateChange() {} });
    expect(await handler(new Request("http://x/api/v2/dags"))).toBeNull();
    expect((await handler(new Request("http://x/leoflow.agent.v1.AgentService/Nope", { method: "POST" })))!.status).toBe(404);
  });
});
