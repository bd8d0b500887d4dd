/**
 * InlineRunner over a real SQLite store and a real local HTTP server: the runner owns the state from
 * scheduled (no queued step), logs each attempt without secrets, stores the body as return_value, is busy
 * at its limit, refuses tasks over the cap, and with the SchedulerLoop runs http chains with XCom templating.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { openStore, type Store } from "../../src/store";
import type { DagSpec, DagRunRecord, TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { InlineHttpExecutor, InlineRunner } from "../../src/executors";
import { SchedulerLoop } from "../../src/scheduler/loop";
import { buildDagRun } from "../../src/scheduler/trigger";
import { silentLogger } from "../../src/observability";

let server: ReturnType<typeof Bun.serve>;
let base = "";
const received: { path: string; body: string; auth: string | null; at: number }[] = [];
let release: (() => void) | null = null;
let onHold: (() => void) | null = null;
/** Resolves once a /hold request has arrived and waits for release(): tests await the request itself. */
const held = () => new Promise<void>((r) => (release ? r() : (onHold = r)));

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      received.push({ path: url.pathname + url.search, body: await req.text(), auth: req.headers.get("authorization"), at: Date.now() });
      if (url.pathname === "/extract") return Response.json({ rows: 42, ids: [1, 2] });
      if (url.pathname === "/echo") return new Response(`echo ${received.at(-1)!.body}`, { headers: { "content-type": "text/plain" } });
      if (url.pathname === "/hold") {
        await new Promise<void>((r) => {
          release = r;
          onHold?.();
          onHold = null;
        });
        return Response.json({ held: true });
      }
      if (url.pathname === "/huge") return Response.json({ blob: "z".repeat(5000) });
      if (url.pathname === "/teapot") return new Response("short and stout", { status: 418 });
      if (url.pathname === "/empty") return new Response(null, { status: 204 });
      return new Response("not found", { status: 404 });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

let store: Store;
beforeEach(async () => {
  store = openStore("sqlite::memory:", { xcomMaxBytes: 2048 });
  await store.migrate();
  received.length = 0;
});
afterEach(async () => store.close());

const NOW = new Date("2026-03-01T00:00:00Z");

async function scheduledTask(task: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const spec = parseDagSpec({
    dag_id: "web",
    params: { who: { default: "ada" } },
    tasks: [{ task_id: "call", operator: "http", ...task }],
    ...extra,
  });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/web.json", pausedOnCreate: false, now: NOW });
  const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: NOW, conf: { n: 7 } }, NOW));
  const [ti] = (await store.listTaskInstances("default", "web", run.run_id)).items;
  await store.applyTransitions([{ id: ti!.id, from: ["none"], to: "scheduled" }], NOW);
  return { spec, run, ti: (await store.getTaskInstanceById(ti!.id))! };
}

function makeRunner(over: Partial<ConstructorParameters<typeof InlineRunner>[0]> = {}) {
  const wakes: number[] = [];
  const runner = new InlineRunner({
    store,
    logger: silentLogger,
    concurrency: 4,
    maxSeconds: 60,
    wake: (id) => void wakes.push(id),
    http: new InlineHttpExecutor({ sleep: async () => {} }),
    ...over,
  });
  return { runner, wakes };
}

async function finished(ti: TaskInstanceRecord, runner: InlineRunner) {
  await runner.close(10_000);
  const after = (await store.getTaskInstanceById(ti.id))!;
  const logs = (await store.readLogs(ti.id, ti.try_number)).map((l) => l.line);
  return { after, logs };
}

describe("InlineRunner", () => {
  test("scheduled → running (hostname inline, never queued) → success, body stored as JSON return_value, a log line per attempt", async () => {
    const { spec, run, ti } = await scheduledTask({ http: { url: `${base}/extract?who={{ params.who }}&n={{ conf.n }}` } });
    const { runner, wakes } = makeRunner();
    expect(await runner.start(ti, run, spec)).toBe("started");
    const running = (await store.getTaskInstanceById(ti.id))!;
    expect(running).toMatchObject({ state: "running", hostname: "inline", executor: "inline", queued_at: null });
    expect(running.start_date).not.toBeNull();
    const { after, logs } = await finished(ti, runner);
    expect(after).toMatchObject({ state: "success", note: null, queued_at: null });
    expect(
      (await store.getXCom({ team: "default", dag_id: "web", run_id: run.run_id, task_id: "call", key: "return_value" }))?.value,
    ).toEqual({
      rows: 42,
      ids: [1, 2],
    });
    expect(received[0]!.path).toBe("/extract?who=ada&n=7");
    expect(logs[0]).toBe(`inline http: GET ${base}/extract?who=ada&n=7 (timeout 30s per attempt, up to 3 retries)`);
    expect(logs[1]).toMatch(new RegExp(`^attempt 1/4: GET ${base.replace(/[.]/g, "\\.")}/extract\\?who=ada&n=7 -> HTTP 200 in \\d+ ms$`));
    expect(logs[2]).toMatch(/^storing the response body \(\d+ bytes, json\) as XCom return_value$/);
    expect(wakes).toEqual([run.id]);
    expect(runner.metrics).toMatchObject({ started: 1, succeeded: 1, failed: 0, busy: 0 });
  });

  test("an empty response (204) succeeds and stores no XCom", async () => {
    const { spec, run, ti } = await scheduledTask({ http: { method: "DELETE", url: `${base}/empty` } });
    const { runner } = makeRunner();
    await runner.start(ti, run, spec);
    const { after } = await finished(ti, runner);
    expect(after.state).toBe("success");
    expect(await store.getXCom({ team: "default", dag_id: "web", run_id: run.run_id, task_id: "call", key: "return_value" })).toBeNull();
  });

  test("a text response is stored as text", async () => {
    const a = await scheduledTask({ http: { method: "POST", url: `${base}/echo`, body: "hi {{ dag_id }}" } });
    const { runner } = makeRunner();
    await runner.start(a.ti, a.run, a.spec);
    await finished(a.ti, runner);
    expect(
      (await store.getXCom({ team: "default", dag_id: "web", run_id: a.run.run_id, task_id: "call", key: "return_value" }))?.value,
    ).toBe("echo hi web");
  });

  test("a final 4xx fails the try with the reason; the log shows the attempt and the failure", async () => {
    const { spec, run, ti } = await scheduledTask({ http: { url: `${base}/teapot` } });
    const { runner, wakes } = makeRunner();
    await runner.start(ti, run, spec);
    const { after, logs } = await finished(ti, runner);
    expect(after.state).toBe("failed");
    expect(after.note).toBe(
      `GET ${base}/teapot returned HTTP 418, expected 2xx; not retried (a 4xx other than 429 is final): short and stout`,
    );
    expect(logs.at(-1)).toBe(`task failed: ${after.note}`);
    expect(wakes).toEqual([run.id]);
    expect(runner.metrics.failed).toBe(1);
  });

  test("at the concurrency limit a task stays scheduled (busy) until a slot frees", async () => {
    const first = await scheduledTask({ http: { url: `${base}/hold` } });
    const { runner } = makeRunner({ concurrency: 1 });
    expect(await runner.start(first.ti, first.run, first.spec)).toBe("started");
    // A second task instance of another run of the same DAG.
    const run2 = await store.createDagRun(
      buildDagRun((await store.getDag("default", "web"))!, { run_type: "manual", logical_date: null, run_id: "second" }, NOW),
    );
    const [ti2] = (await store.listTaskInstances("default", "web", "second")).items;
    await store.applyTransitions([{ id: ti2!.id, from: ["none"], to: "scheduled" }], NOW);
    expect(await runner.start(ti2!, run2, first.spec)).toBe("busy");
    expect((await store.getTaskInstanceById(ti2!.id))!.state).toBe("scheduled");
    expect(runner.metrics.busy).toBe(1);
    await held();
    release!();
    release = null;
    await finished(first.ti, runner);
    expect((await store.getTaskInstanceById(first.ti.id))!.state).toBe("success");
  });

  test("starts made at the same moment never exceed the concurrency limit", async () => {
    const first = await scheduledTask({ http: { url: `${base}/extract` } });
    const { runner } = makeRunner({ concurrency: 2 });
    const others = [];
    for (const id of ["c2", "c3"]) {
      const run = await store.createDagRun(
        buildDagRun((await store.getDag("default", "web"))!, { run_type: "manual", logical_date: null, run_id: id }, NOW),
      );
      const [ti] = (await store.listTaskInstances("default", "web", id)).items;
      await store.applyTransitions([{ id: ti!.id, from: ["none"], to: "scheduled" }], NOW);
      others.push({ ti: ti!, run });
    }
    const answers = await Promise.all([
      runner.start(first.ti, first.run, first.spec),
      ...others.map((o) => runner.start(o.ti, o.run, first.spec)),
    ]);
    expect(answers.filter((a) => a === "started").length).toBe(2);
    expect(answers.filter((a) => a === "busy").length).toBe(1);
    await runner.close(5_000);
  });

  test("a task whose timeout is over the cap is refused with a clear reason", async () => {
    const { spec, run, ti } = await scheduledTask({ execution_timeout: 900, http: { url: `${base}/extract` } });
    const { runner } = makeRunner({ maxSeconds: 300 });
    // Refused before it started: it takes no slot (the slot goes to the next task).
    expect(await runner.start(ti, run, spec)).toBe("gone");
    expect(runner.inFlight).toBe(0);
    const after = (await store.getTaskInstanceById(ti.id))!;
    expect(after.state).toBe("failed");
    expect(after.note).toBe(
      "inline task refused: task call: execution_timeout 900s is over the inline task cap of 300s; lower it or start the server with a larger --inline-max-seconds",
    );
    expect(received).toEqual([]);
    expect(runner.metrics.rejected).toBe(1);
  });

  test("a body over the XCom limit fails the task with the size and the limit", async () => {
    const { spec, run, ti } = await scheduledTask({ http: { url: `${base}/huge` } });
    const { runner } = makeRunner();
    await runner.start(ti, run, spec);
    const { after } = await finished(ti, runner);
    expect(after.state).toBe("failed");
    expect(after.note).toMatch(/^XCom return_value of task call is \d+ bytes; the limit is 2048 bytes \(--xcom-max-bytes\)$/);
  });

  test("an unknown template reference fails the task naming it, without sending anything", async () => {
    const { spec, run, ti } = await scheduledTask({ http: { url: `${base}/extract`, json: { x: "{{ xcom.nope }}" }, method: "POST" } });
    const { runner } = makeRunner();
    await runner.start(ti, run, spec);
    const { after } = await finished(ti, runner);
    expect(after.note).toBe(
      'template {{ xcom.nope }} in http.json.x: task "nope" has no return_value XCom in this run (is it an upstream that succeeded and returned something?)',
    );
    expect(received).toEqual([]);
  });

  test("secrets from connections and variables never reach logs or notes", async () => {
    await store.putConnection(
      "default",
      {
        connection_id: "svc",
        conn_type: "http",
        description: null,
        host: base,
        login: "bot",
        password: "PW-hunter2",
        schema: null,
        port: null,
        extra: null,
      },
      NOW,
    );
    await store.putVariable("default", { key: "api_key", value: "KEY-abcdef", description: null }, NOW);
    const { spec, run, ti } = await scheduledTask({
      http: {
        url: "/teapot/{{ var.api_key }}",
        connection_id: "svc",
        query: { api_key: "{{ var.api_key }}", page: "1" },
        headers: { "X-Secret": "HDR-zzz" },
      },
    });
    const { runner } = makeRunner();
    await runner.start(ti, run, spec);
    const { after, logs } = await finished(ti, runner);
    expect(received[0]!.auth).toBe(`Basic ${btoa("bot:PW-hunter2")}`);
    expect(received[0]!.path).toBe("/teapot/KEY-abcdef?api_key=KEY-abcdef&page=1");
    const shown = [...logs, after.note].join("\n");
    expect(shown).toContain(`${base}/teapot/***?api_key=***&page=1`);
    for (const secret of ["PW-hunter2", "KEY-abcdef", "HDR-zzz", btoa("bot:PW-hunter2")]) expect(shown).not.toContain(secret);
  });

  test("close(grace) waits for in-flight requests; past the grace it aborts them and fails the try", async () => {
    const { spec, run, ti } = await scheduledTask({ http: { url: `${base}/hold` } });
    const { runner } = makeRunner();
    await runner.start(ti, run, spec);
    await held();
    await runner.close(50);
    const after = (await store.getTaskInstanceById(ti.id))!;
    expect(after.state).toBe("failed");
    expect(after.note).toStartWith("the server shut down while the request was in flight during attempt 1");
    release!();
    release = null;
  });
});

describe("InlineRunner in the SchedulerLoop", () => {
  test("an http chain runs with XCom templating, retries of the task go through the planner, nothing is ever queued", async () => {
    const spec = parseDagSpec({
      dag_id: "chain",
      tasks: [
        { task_id: "extract", operator: "http", http: { url: `${base}/extract` } },
        {
          task_id: "send",
          operator: "http",
          upstream: ["extract"],
          http: { method: "POST", url: `${base}/echo`, json: { rows: "{{ xcom.extract.rows }}", second: "{{ xcom.extract.ids.1 }}" } },
        },
        { task_id: "flaky", operator: "http", upstream: ["send"], retries: 1, retry_delay: 0, http: { url: `${base}/teapot`, retries: 0 } },
      ],
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/chain.json", pausedOnCreate: false, now: new Date() });
    let loop: SchedulerLoop;
    const dispatched: string[] = [];
    const runner = new InlineRunner({ store, logger: silentLogger, concurrency: 8, maxSeconds: 60, wake: (id) => loop.wake(id) });
    loop = new SchedulerLoop({
      store,
      dispatcher: { dispatch: async (ti: TaskInstanceRecord, _r: DagRunRecord, _s: DagSpec) => void dispatched.push(ti.task_id) },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
      parallelism: 8,
      inline: runner,
    });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, new Date()));
    loop.start();
    loop.wake(run.id);
    let current = run;
    for (let i = 0; i < 500 && current.state !== "success" && current.state !== "failed"; i++) {
      await Bun.sleep(10);
      current = (await store.getDagRunById(run.id))!;
    }
    await loop.stop();
    await runner.close(1000);
    expect(current.state).toBe("failed");
    const tis = Object.fromEntries((await store.listTaskInstances("default", "chain", run.run_id)).items.map((t) => [t.task_id, t]));
    expect(tis.extract).toMatchObject({ state: "success", queued_at: null, hostname: "inline" });
    expect(tis.send).toMatchObject({ state: "success", queued_at: null });
    expect(tis.flaky).toMatchObject({ state: "failed", try_number: 2, queued_at: null });
    expect(dispatched).toEqual([]);
    expect(received.find((r) => r.path === "/echo")!.body).toBe('{"rows":42,"second":2}');
    expect(
      (await store.getXCom({ team: "default", dag_id: "chain", run_id: run.run_id, task_id: "send", key: "return_value" }))?.value,
    ).toBe('echo {"rows":42,"second":2}');
    expect(received.filter((r) => r.path === "/teapot")).toHaveLength(2);
  });
});
