/**
 * No store write of an inline task is silently dropped: a refused log line, heartbeat or outcome is logged
 * naming the task and counted; an outcome write is tried again; a refusal the store could not record is
 * thrown so the loop picks the task again. Over an in-memory port and a fake HTTP call: no I/O.
 */
import { describe, expect, test } from "bun:test";
import type { DagRunRecord, TaskInstanceRecord, TaskTransition } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import { InlineRunner, type InlineHttpExecutor, type InlineRunnerPort } from "../../../src/executors";
import type { Logger } from "../../../src/observability";

const NOW = new Date("2026-03-01T00:00:00Z");
const spec = parseDagSpec({ dag_id: "web", tasks: [{ task_id: "call", operator: "http", http: { url: "http://api.test/x" } }] });
const run = { id: 7, dag_id: "web", run_id: "r1", version_id: 1, logical_date: NOW, conf: {} } as unknown as DagRunRecord;
const ti = { id: 3, dag_run_id: 7, dag_id: "web", run_id: "r1", task_id: "call", state: "scheduled", try_number: 1 } as TaskInstanceRecord;

/** A store that keeps the task's state and log, and refuses the writes named in `refuse` (counting down). */
function fakeStore(refuse: { logs?: number; outcomes?: number; heartbeats?: number } = {}) {
  const left = { logs: 0, outcomes: 0, heartbeats: 0, ...refuse };
  const state = { value: "scheduled" as string, note: null as string | null, lines: [] as string[] };
  const down = (what: string) => new Error(`database is restarting (${what})`);
  const apply = (t: TaskTransition) => {
    if (!t.from.includes(state.value as never)) return false;
    state.value = t.to;
    state.note = t.patch?.note ?? null;
    return true;
  };
  const port: InlineRunnerPort = {
    async applyTransitions(ts: TaskTransition[]) {
      const [t] = ts;
      if (t!.to !== "running" && left.outcomes-- > 0) throw down("transition");
      return [apply(t!)];
    },
    async appendLogBatches(batches) {
      if (left.logs-- > 0) throw down("logs");
      for (const b of batches) state.lines.push(...b.lines.map((l) => l.line));
    },
    async finishInlineTries(ends) {
      if (left.outcomes-- > 0) throw down("outcome");
      for (const e of ends) state.lines.push(...(e.lines?.lines.map((l) => l.line) ?? []));
      return ends.map((e) => ({ applied: apply(e.transition), refused: null, nextApplied: false }));
    },
    async heartbeat() {
      if (left.heartbeats-- > 0) throw down("heartbeat");
      return true;
    },
    getXCom: async () => null,
    listMappedXComs: async () => [],
    getVariable: async () => null,
    getConnection: async () => null,
    getTaskInstanceById: async () => null,
    getDagRunById: async () => null,
    getDagVersion: async () => null,
  };
  return { port, state };
}

function recordingLogger() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => logger } as unknown as Logger;
  return { logger, lines };
}

/** An HTTP call that answers 200 "ok" once `gate` resolves. */
function fakeHttp(gate: Promise<void> = Promise.resolve()): InlineHttpExecutor {
  return {
    run: async () => (await gate, { status: 200, body: "ok", contentType: "text/plain", attempts: 1 }),
  } as unknown as InlineHttpExecutor;
}

function runner(port: InlineRunnerPort, logger: Logger, over: Partial<ConstructorParameters<typeof InlineRunner>[0]> = {}) {
  const wakes: number[] = [];
  const r = new InlineRunner({
    store: port,
    logger,
    concurrency: 2,
    maxSeconds: 60,
    wake: (id) => void wakes.push(id),
    http: fakeHttp(),
    now: () => NOW,
    sleep: async () => {},
    ...over,
  });
  return { r, wakes };
}

describe("store writes of inline tasks", () => {
  test("a quick request's lines go to the store with its outcome, in one write", async () => {
    const { port, state } = fakeStore({ logs: 99 });
    const { r } = runner(port, recordingLogger().logger);
    await r.start(ti, run, spec);
    await r.close(1000);
    expect(state.value).toBe("success");
    expect(state.lines).toEqual([
      "inline http: GET http://api.test/x (timeout 30s per attempt, up to 3 retries)",
      "storing the response body (2 bytes, text) as XCom return_value",
    ]);
    expect(r.writeFailures.log_line).toBe(0);
  });

  test("lines of an outcome the store never takes are reported lost once, naming the task", async () => {
    const { port } = fakeStore({ outcomes: 99 });
    const { logger, lines } = recordingLogger();
    const { r } = runner(port, logger, { outcomeWriteAttempts: 2 });
    await r.start(ti, run, spec);
    await r.close(1000);
    expect(r.writeFailures.log_line).toBe(2);
    const warn = lines.find((l) => l.msg.includes("log lines of an inline task could not be stored"))!;
    expect(warn.msg).toBe("2 of 2 log lines of an inline task could not be stored; its log shows gaps");
    expect(warn.fields).toMatchObject({ dag_id: "web", run_id: "r1", task_id: "call", try_number: 1 });
    expect(String(warn.fields!.error)).toContain("database is restarting (outcome)");
  });

  test("an XCom the store refuses fails the try with the reason, and the log ends with it", async () => {
    const { port, state } = fakeStore();
    const tooLarge = new Error("XCom return_value of task call is 2 bytes; the limit is 1 bytes (--xcom-max-bytes)");
    port.finishInlineTries = async (ends) => {
      for (const e of ends) state.lines.push(...(e.lines?.lines.map((l) => l.line) ?? []));
      state.value = "failed";
      state.note = tooLarge.message;
      return ends.map(() => ({ applied: true, refused: tooLarge, nextApplied: false }));
    };
    const { r } = runner(port, recordingLogger().logger);
    await r.start(ti, run, spec);
    await r.close(1000);
    expect(r.metrics).toMatchObject({ succeeded: 0, failed: 1 });
    expect(state.lines.at(-1)).toBe(`task failed: ${tooLarge.message}`);
  });

  test("an outcome write the store refuses is tried again until it lands", async () => {
    const { port, state } = fakeStore({ outcomes: 2 });
    const { logger, lines } = recordingLogger();
    const { r, wakes } = runner(port, logger);
    await r.start(ti, run, spec);
    await r.close(1000);
    expect(state.value).toBe("success");
    expect(r.metrics.succeeded).toBe(1);
    expect(r.writeFailures.outcome).toBe(2);
    expect(lines.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual([
      "recording an inline task's outcome failed; trying again in 500 ms",
      "recording an inline task's outcome failed; trying again in 1000 ms",
    ]);
    expect(wakes).toEqual([7]);
  });

  test("an outcome the store never takes is logged as an error saying who fails the try, and the slot is freed", async () => {
    const { port, state } = fakeStore({ outcomes: 99 });
    const { logger, lines } = recordingLogger();
    const { r, wakes } = runner(port, logger, { outcomeWriteAttempts: 3 });
    await r.start(ti, run, spec);
    await r.close(1000);
    expect(state.value).toBe("running");
    expect(r.inFlight).toBe(0);
    expect(r.writeFailures.outcome).toBe(3);
    const error = lines.find((l) => l.level === "error")!;
    expect(error.msg).toBe(
      "recording an inline task's outcome failed 3 times; it stays running until the agent_lost reaper fails it (check the database)",
    );
    expect(error.fields).toMatchObject({ task_id: "call", outcome: "success", attempt: 3 });
    expect(wakes).toEqual([7]);
  });

  test("a refusal the store cannot record is thrown, so the task stays scheduled for the loop", async () => {
    const { port, state } = fakeStore({ outcomes: 1 });
    const slow = parseDagSpec({
      dag_id: "web",
      tasks: [{ task_id: "call", operator: "http", execution_timeout: 900, http: { url: "http://api.test/x" } }],
    });
    const { r } = runner(port, recordingLogger().logger);
    await expect(r.start(ti, run, slow)).rejects.toThrow("database is restarting (transition)");
    expect(state.value).toBe("scheduled");
  });

  test("a heartbeat the store refuses is counted and logged with the tasks it concerns", async () => {
    const { port } = fakeStore({ heartbeats: 1 });
    const { logger, lines } = recordingLogger();
    let warned!: () => void;
    const seen = new Promise<void>((resolve) => (warned = resolve));
    const wrapped = { ...logger, warn: (msg: string, fields?: Record<string, unknown>) => (logger.warn(msg, fields), warned()) } as Logger;
    let answer!: () => void;
    const { r } = runner(port, wrapped, { heartbeatIntervalMs: 1, http: fakeHttp(new Promise((resolve) => (answer = resolve))) });
    await r.start(ti, run, spec);
    await seen;
    answer();
    await r.close(1000);
    expect(r.writeFailures.heartbeat).toBe(1);
    const warn = lines.find((l) => l.msg.startsWith("refreshing the heartbeat"))!;
    expect(warn.msg).toBe("refreshing the heartbeat of 1 running inline task(s) failed; past --agent-lost-after the reaper fails them");
    expect(warn.fields!.task_instances).toEqual(["web/r1/call#1"]);
  });
});
