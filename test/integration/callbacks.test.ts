/**
 * Callbacks end to end inside one process: a real store with its event log, the callback runner, a real local
 * HTTP receiver (http and Slack-webhook callbacks) and a real SMTP server (smtp-server) for mail. State
 * changes are written through the store as the scheduler and agents write them; what the receivers get is
 * what a user's endpoints would get. Deadlines run on a fake clock.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfCommand } from "../../src/agent";
import { CALLBACK_CURSOR, CallbackRunner, SAVE_EVERY_MS } from "../../src/callbacks";
import { inheritedTaskEnv, type DagRunRecord, type TaskState } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { EventHub, createServerEvents, withStoreEvents, type LeoflowEvent, type ServerEvents } from "../../src/events";
import { Metrics, silentLogger } from "../../src/observability";
import { SqliteStore, guardedStore, type Store } from "../../src/store";
import { FakeClock } from "../support/clock";
import { startSmtpSink } from "../support/smtp-sink";
import { overriding } from "../../src/store/decorate";

interface Hit {
  path: string;
  body: string;
  auth: string | null;
}

let receiver: ReturnType<typeof Bun.serve>;
const hits: Hit[] = [];
let base = "";
let sink: Awaited<ReturnType<typeof startSmtpSink>>;

beforeAll(async () => {
  receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      hits.push({ path: url.pathname + url.search, body: await req.text(), auth: req.headers.get("authorization") });
      return url.pathname.startsWith("/broken") ? new Response("nope", { status: 400 }) : new Response("ok");
    },
  });
  base = `http://127.0.0.1:${receiver.port}`;
  sink = await startSmtpSink({ user: "mailer", pass: "smtp-secret" });
});
afterAll(async () => {
  receiver.stop(true);
  await sink.close();
});

let raw: Store;
let store: Store;
let events: ServerEvents;
let runner: CallbackRunner;
let metrics: Metrics;
const clock = new FakeClock("2026-03-01T00:00:00Z");

beforeEach(async () => {
  hits.length = 0;
  sink.messages.length = 0;
  raw = guardedStore(new SqliteStore({ path: ":memory:" }));
  await raw.migrate();
  events = createServerEvents({ store: raw, hub: new EventHub(), logger: silentLogger });
  store = withStoreEvents(raw, events.log);
  metrics = new Metrics();
  runner = new CallbackRunner({ store, events: events.log, logger: silentLogger, metrics, active: () => true, clock, pollMs: 3_600_000 });
  const now = clock.now();
  await store.putConnection("default", conn("chat", "slack", { host: `${base}/hooks`, password: "T000/B000/XXX" }), now);
  await store.putConnection(
    "default",
    conn("mail", "smtp", {
      host: "127.0.0.1",
      port: sink.port,
      login: "mailer",
      password: "smtp-secret",
      extra: '{"from":"leoflow@example.test"}',
    }),
    now,
  );
});
afterEach(async () => {
  await runner.stop();
  await events.close();
  await raw.close();
});

function conn(id: string, type: string, f: Record<string, unknown>) {
  return {
    connection_id: id,
    conn_type: type,
    description: null,
    host: null,
    login: null,
    password: null,
    schema: null,
    port: null,
    extra: null,
    ...f,
  };
}

async function dagRun(dag: Record<string, unknown>, runId: string, logical?: Date, fileloc?: string): Promise<DagRunRecord> {
  const spec = parseDagSpec(dag);
  const d = await store.upsertDag("default", {
    spec,
    fileloc: fileloc ?? `/dags/${spec.dag_id}.json`,
    pausedOnCreate: false,
    now: clock.now(),
  });
  return store.createDagRun({
    team: "default",
    dag_id: d.dag_id,
    run_id: runId,
    run_type: "manual",
    logical_date: logical ?? null,
    data_interval_start: null,
    data_interval_end: null,
    conf: {},
    version_id: d.version_id,
    queued_at: clock.now(),
    tasks: spec.tasks.map((t) => ({
      task_id: t.task_id,
      operator: t.operator,
      max_tries: t.retries,
      pool: "default_pool",
      pool_slots: 1,
      priority_weight: 1,
    })),
  });
}

/** Moves a task instance through `states` (each a write the scheduler or an agent makes). */
async function walk(run: DagRunRecord, taskId: string, states: TaskState[]) {
  const ti = (await store.listTaskInstances("default", run.dag_id, run.run_id)).items.find((t) => t.task_id === taskId)!;
  let from = ti.state;
  for (const to of states) {
    // As the planner does: a retry resets the instance to none on its next try.
    const patch =
      to === "running"
        ? { start_date: clock.now() }
        : to === "queued"
          ? { queued_at: clock.now() }
          : to === "none"
            ? { try_number: ti.try_number + 1 }
            : {};
    const [ok] = await store.applyTransitions([{ id: ti.id, from: [from], to, patch }], clock.now());
    expect(ok).toBe(true);
    from = to;
  }
}

/** Lets the event log append what the writes emitted, then the runner read it and run every callback. */
async function settle() {
  await events.log.settled();
  runner.poke();
  await runner.idle();
}

const failingDag = () => ({
  dag_id: "nightly",
  on_failure_callback: {
    notifier: "smtp",
    connection_id: "mail",
    to: "oncall@example.test, lead@example.test",
    subject: "{{ dag_id }} {{ run_id }} failed",
    message: "run {{ run_id }} of {{ dag.dag_id }} failed",
  },
  tasks: [
    {
      task_id: "load",
      operator: "bash",
      bash_command: "false",
      retries: 1,
      on_execute_callback: {
        http: { method: "POST", url: `{{ conn.chat.host }}/../started/{{ task.task_id }}`, json: { try: "{{ ti.try_number }}" } },
      },
      on_retry_callback: { notifier: "slack", connection_id: "chat", message: ":warning: {{ dag.dag_id }}.{{ task.task_id }} will retry" },
      on_failure_callback: [
        { http: { method: "POST", url: `${base}/failed`, json: { dag: "{{ dag_id }}", task: "{{ task.task_id }}", run: "{{ run_id }}" } } },
      ],
    },
  ],
});

test("a task's execute, retry and final failure callbacks, then the run's e-mail, each delivered once", async () => {
  await runner.start();
  const run = await dagRun(failingDag(), "manual__1");
  await walk(run, "load", ["scheduled", "queued", "running", "failed"]); // try 1 fails: a retry follows
  await walk(run, "load", ["up_for_retry"]);
  await settle();
  // Callbacks run concurrently: each batch is compared without its order.
  expect(hits.map((h) => h.path).sort()).toEqual(["/hooks/T000/B000/XXX", "/started/load"]);
  expect(JSON.parse(hits.find((h) => h.path.startsWith("/hooks"))!.body)).toEqual({ text: ":warning: nightly.load will retry" });

  await walk(run, "load", ["none", "scheduled", "queued", "running", "failed"]); // the last try fails
  expect(await store.setDagRunState(run.id, ["queued"], "failed", clock.now())).toBe(true);
  await settle();
  expect(
    hits
      .slice(2)
      .map((h) => h.path)
      .sort(),
  ).toEqual(["/failed", "/started/load"]);
  expect(JSON.parse(hits.find((h) => h.path === "/failed")!.body)).toEqual({ dag: "nightly", task: "load", run: "manual__1" });
  expect(hits.filter((h) => h.path === "/started/load").map((h) => JSON.parse(h.body))).toEqual([{ try: 1 }, { try: 2 }]);

  expect(sink.messages).toHaveLength(1);
  const mail = sink.messages[0]!;
  expect(mail.from).toBe("leoflow@example.test");
  expect(mail.to).toEqual(["oncall@example.test", "lead@example.test"]);
  expect(mail.user).toBe("mailer");
  expect(mail.raw).toContain("Subject: nightly manual__1 failed");
  expect(mail.raw).toContain("run manual__1 of nightly failed");
  expect(metrics.render()).toContain('leoflow_callbacks_total{kind="on_failure_callback",result="ok"} 2');

  // A runner that starts again resumes after what it handled: nothing is called twice.
  await runner.stop();
  const again = new CallbackRunner({ store, events: events.log, logger: silentLogger, active: () => true, clock, pollMs: 3_600_000 });
  await again.start();
  await again.idle();
  await again.stop();
  expect(hits).toHaveLength(4);
  expect(sink.messages).toHaveLength(1);
});

test("this process's events reach the runner from memory, not read back; another writer's events in between are read from the log", async () => {
  const reads: number[] = [];
  const counted = overriding(store, {
    readEventsAfter: (after, limit) => {
      reads.push(after);
      return store.readEventsAfter(after, limit);
    },
  });
  const own = new CallbackRunner({
    store: counted,
    events: events.log,
    logger: silentLogger,
    active: () => true,
    clock,
    pollMs: 3_600_000,
  });
  events.onAppended((appended) => own.offer(appended));
  await own.start();
  reads.length = 0;
  const run = await dagRun(failingDag(), "manual__1");
  await walk(run, "load", ["scheduled", "queued", "running"]);
  await events.log.settled();
  await own.idle();
  expect(hits.map((h) => h.path)).toEqual(["/started/load"]);
  expect(reads).toEqual([]);

  // A writer that is not this process's event log (another replica, a CLI command) appends the run's end.
  const cursor = own.cursor;
  await raw.appendEvents(
    [{ type: "dag_run.finished", team: "default", dag_id: "nightly", run_id: "manual__1", state: "failed" }],
    clock.now(),
  );
  await walk(run, "load", ["up_for_retry"]);
  await events.log.settled();
  await own.idle();
  expect(reads[0]).toBe(cursor);
  expect(hits.map((h) => h.path).sort()).toEqual(["/hooks/T000/B000/XXX", "/started/load"]);
  expect(sink.messages).toHaveLength(1);
  expect(own.cursor).toBe(await raw.lastEventId());
  await own.stop();
});

test("events that call nothing move the stored cursor within SAVE_EVERY_MS, not per page; a page that queues a callback is stored at once", async () => {
  await runner.start();
  const started = await raw.getCallbackCursor(CALLBACK_CURSOR);
  const quiet = await dagRun({ dag_id: "quiet", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }, "q1");
  expect(await store.setDagRunState(quiet.id, ["queued"], "success", clock.now())).toBe(true);
  await settle();
  // Read and handled (nothing to call), but not stored yet: a restart would read them again and call nothing.
  expect(runner.cursor).toBeGreaterThan(started!);
  expect(await raw.getCallbackCursor(CALLBACK_CURSOR)).toBe(started);
  clock.advance(SAVE_EVERY_MS);
  runner.poke();
  await runner.idle();
  expect(await raw.getCallbackCursor(CALLBACK_CURSOR)).toBe(runner.cursor);

  const loud = await dagRun(
    {
      dag_id: "loud",
      on_success_callback: { http: { url: `${base}/done` } },
      tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
    },
    "l1",
  );
  expect(await store.setDagRunState(loud.id, ["queued"], "success", clock.now())).toBe(true);
  await settle();
  expect(hits.map((h) => h.path)).toEqual(["/done"]);
  expect(await raw.getCallbackCursor(CALLBACK_CURSOR)).toBe(runner.cursor); // no clock advance: stored with its page
});

test("a failing callback is logged as a callback.failed event and counted; the run is untouched", async () => {
  await runner.start();
  const run = await dagRun(
    {
      dag_id: "bad_hook",
      on_success_callback: [{ http: { url: `${base}/broken` } }, { notifier: "slack", connection_id: "missing", message: "x" }],
      tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
    },
    "manual__1",
  );
  expect(await store.setDagRunState(run.id, ["queued"], "success", clock.now())).toBe(true);
  await settle();
  await events.log.settled();
  const logged = (await raw.readEventsAfter(0, 100))
    .map((r) => r.event as unknown as LeoflowEvent)
    .filter((e) => e.type === "callback.failed");
  // The two run at once: their events come in the order they finished.
  expect(logged.map((e) => (e.type === "callback.failed" ? [e.callback, e.error] : [])).sort()).toEqual([
    ["on_success_callback[0]", expect.stringContaining("returned HTTP 400")],
    ["on_success_callback[1]", expect.stringContaining('connection "missing" does not exist')],
  ]);
  expect(metrics.render()).toContain('leoflow_callbacks_total{kind="on_success_callback",result="failed"} 2');
  expect((await store.getDagRun("default", "bad_hook", "manual__1"))?.state).toBe("success");
});

test("a deadline alert fires once for a run not finished in time, and never for one that finished", async () => {
  const dag = (id: string) => ({
    dag_id: id,
    deadline: {
      after: 600,
      reference: "logical_date",
      callback: { http: { method: "POST", url: `${base}/late/{{ dag_id }}/{{ run_id }}` } },
    },
    tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
  });
  const late = await dagRun(dag("slow"), "scheduled__1", clock.now());
  const onTime = await dagRun(dag("quick"), "scheduled__1", clock.now());
  await runner.start(); // reads the active runs: both deadlines are armed
  clock.advance(300_000);
  expect(await store.setDagRunState(onTime.id, ["queued"], "success", clock.now())).toBe(true);
  await settle();
  clock.advance(299_000);
  await runner.idle();
  expect(hits).toEqual([]);
  clock.advance(2_000);
  await runner.idle();
  expect(hits.map((h) => h.path)).toEqual(["/late/slow/scheduled__1"]);
  await events.log.settled();
  const missed = (await raw.readEventsAfter(0, 100))
    .map((r) => r.event as unknown as LeoflowEvent)
    .filter((e) => e.type === "dag_run.deadline_missed");
  expect(missed.map((e) => [e.dag_id, e.run_id])).toEqual([["slow", late.run_id]]);

  // Another runner (a restart, a new leader) arms it again from the active run, but the store says it fired.
  await runner.stop();
  const again = new CallbackRunner({ store, events: events.log, logger: silentLogger, active: () => true, clock, pollMs: 3_600_000 });
  await again.start();
  clock.advance(1_000);
  await again.idle();
  await again.stop();
  expect(hits).toHaveLength(1);
});

test("a replica that does not lead calls nothing; once it leads it resumes from the stored cursor", async () => {
  await runner.start(); // the first leader stores its cursor, then steps away
  await runner.stop();
  let leading = false;
  const replica = new CallbackRunner({ store, events: events.log, logger: silentLogger, active: () => leading, clock, pollMs: 3_600_000 });
  await replica.start();
  const run = await dagRun(
    {
      dag_id: "handoff",
      on_success_callback: { http: { url: `${base}/done/{{ run_id }}` } },
      tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
    },
    "r1",
  );
  expect(await store.setDagRunState(run.id, ["queued"], "success", clock.now())).toBe(true);
  await events.log.settled();
  replica.poke();
  await replica.idle();
  expect(hits).toEqual([]);
  leading = true;
  replica.leadershipChanged(true);
  await replica.idle();
  await replica.stop();
  expect(hits.map((h) => h.path)).toEqual(["/done/r1"]);
});

test("ts callbacks run in a child process with the context; a throw or a path outside the DAG's folder is a callback.failed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-ts-callback-"));
  const marker = join(dir, "called.json");
  writeFileSync(
    join(dir, "alerts.ts"),
    `import { writeFileSync } from "node:fs";
export async function onFailure(ctx) { writeFileSync(${JSON.stringify(marker)}, JSON.stringify({ ctx, pid: process.pid, secret: process.env.LEOFLOW_JWT_SECRET ?? null })); }
export function broken() { throw new Error("pager is down"); }
`,
  );
  const ts = new CallbackRunner({
    store,
    events: events.log,
    logger: silentLogger,
    active: () => true,
    clock,
    pollMs: 3_600_000,
    // As app.ts builds it: the task environment's allowlist, which leaves the server's secrets out.
    ts: { command: selfCommand(), env: inheritedTaskEnv({ ...process.env, LEOFLOW_JWT_SECRET: "server-only" }, []) },
  });
  await ts.start();
  const run = await dagRun(
    {
      dag_id: "ts_cb",
      params: { region: { type: "string", default: "eu" } },
      on_failure_callback: [{ ts: "alerts.ts:onFailure" }, { ts: "alerts.ts:broken" }, { ts: "../elsewhere.ts:onFailure" }],
      tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
    },
    "manual__7",
    undefined,
    join(dir, "ts_cb.json"),
  );
  expect(await store.setDagRunState(run.id, ["queued"], "failed", clock.now())).toBe(true);
  await events.log.settled();
  ts.poke();
  await ts.idle();
  await ts.stop();

  const called = JSON.parse(readFileSync(marker, "utf8"));
  expect(called.ctx).toEqual({
    kind: "on_failure_callback",
    dag_id: "ts_cb",
    run_id: "manual__7",
    task_id: null,
    try_number: 0,
    logical_date: null,
    map_index: -1,
    conf: {},
    params: { region: "eu" },
  });
  expect(called.pid).not.toBe(process.pid);
  expect(called.secret).toBeNull();
  await events.log.settled();
  const failed = (await raw.readEventsAfter(0, 100))
    .map((r) => r.event as unknown as LeoflowEvent)
    .flatMap((e) => (e.type === "callback.failed" ? [[e.callback, e.error] as const] : []))
    .sort();
  expect(failed).toEqual([
    ["on_failure_callback[1]", expect.stringContaining("pager is down")],
    ["on_failure_callback[2]", expect.stringContaining("points outside the DAG file's folder")],
  ]);
}, 30_000);

test("a mapped instance's callback renders in that instance's context: its map_index and its mapped argument", async () => {
  await runner.start();
  await dagRun(
    {
      dag_id: "mapcb",
      tasks: [
        {
          task_id: "m",
          operator: "bash",
          expand: { x: [1, 2, 3] },
          bash_command: "true",
          on_failure_callback: {
            http: {
              method: "POST",
              url: `${base}/mapcb`,
              json: { idx: "{{ map_index }}", ti: "{{ ti.map_index }}", x: "{{ map.x }}", y: "x={{ map.x | default('none') }}" },
            },
          },
        },
      ],
    },
    "mapped",
  );
  const m = (await store.listTaskInstances("default", "mapcb", "mapped")).items.find((t) => t.task_id === "m")!;
  expect(await store.expandTaskInstances([{ id: m.id, count: 3 }], clock.now())).toEqual([true]);
  const one = (await store.listTaskInstances("default", "mapcb", "mapped")).items.find((t) => t.map_index === 1)!;
  for (const [from, to] of [
    ["none", "scheduled"],
    ["scheduled", "queued"],
    ["queued", "running"],
    ["running", "failed"],
  ] as const)
    expect((await store.applyTransitions([{ id: one.id, from: [from], to }], clock.now()))[0]).toBe(true);
  await settle();
  expect(hits.map((h) => [h.path, JSON.parse(h.body)])).toEqual([["/mapcb", { idx: 1, ti: 1, x: 2, y: "x=2" }]]);
});
