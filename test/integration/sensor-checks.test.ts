/**
 * The checks behind http and sql sensors against real servers: a local HTTP server that becomes ready, a
 * SQLite file and the test Postgres through connections, and the errors that fail a sensor (a missing
 * connection, a connection of another type, another DAG's failed task).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionRecord, DagRunState, TaskState } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { SensorChecks } from "../../src/executors";
import { describePg, pgUrl } from "../support/postgres";

/** The kinds the control plane checks. */
type Checked = Parameters<SensorChecks["check"]>[0];

const conn = (over: Partial<ConnectionRecord> & Pick<ConnectionRecord, "connection_id" | "conn_type">): ConnectionRecord => ({
  description: null,
  host: null,
  login: null,
  password: null,
  schema: null,
  port: null,
  extra: null,
  ...over,
});

function checksWith(connections: ConnectionRecord[], external: (TaskState | DagRunState)[] = []) {
  return new SensorChecks({
    getConnection: async (_team, id) => connections.find((c) => c.connection_id === id) ?? null,
    externalStates: async () => external,
  });
}

const ctx = {
  team: "default",
  dag_id: "d",
  run_id: "r",
  task_id: "t",
  logical_date: new Date("2026-01-01T00:00:00Z"),
  run_queued_at: new Date(),
  now: new Date(),
};

describe("http sensor", () => {
  let server: ReturnType<typeof Bun.serve>;
  let status = 503;
  let body: unknown = { ready: false };
  let auth: string | null = null;
  beforeAll(() => {
    server = Bun.serve({
      port: 0,
      fetch: (req) => {
        auth = req.headers.get("authorization");
        return Response.json(body, { status });
      },
    });
  });
  afterAll(() => server.stop(true));

  const sensor = (check?: object): Checked =>
    ({ kind: "http", http: { method: "GET", url: "/health", connection_id: "api" }, ...(check ? { check } : {}) }) as Checked;

  test("not yet while the status is not accepted; then the JSON path decides; the connection's credentials are sent", async () => {
    const checks = checksWith([
      conn({ connection_id: "api", conn_type: "http", host: `http://127.0.0.1:${server.port}`, login: "bot", password: "pw" }),
    ]);
    status = 503;
    expect(await checks.check(sensor({ json_path: "ready" }), ctx)).toEqual({ done: false });
    status = 200;
    expect(await checks.check(sensor({ json_path: "ready" }), ctx)).toEqual({ done: false });
    body = { ready: true, phase: "up" };
    expect(await checks.check(sensor({ json_path: "ready" }), ctx)).toEqual({ done: true });
    expect(await checks.check(sensor({ json_path: "phase", equals: "down" }), ctx)).toEqual({ done: false });
    expect(await checks.check(sensor({ body_contains: '"phase":"up"' }), ctx)).toEqual({ done: true });
    expect(await checks.check(sensor(), ctx)).toEqual({ done: true });
    expect(auth).toBe(`Basic ${btoa("bot:pw")}`);
  });

  test("a server that does not answer is not yet; a missing connection is an error naming it", async () => {
    const down = checksWith([conn({ connection_id: "api", conn_type: "http", host: "http://127.0.0.1:9" })]);
    expect(await down.check(sensor(), ctx)).toEqual({ done: false });
    await expect(checksWith([]).check(sensor(), ctx)).rejects.toThrow('connection "api" does not exist');
  });
});

describe("sql sensor", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "leoflow-sql-sensor-"));
    const db = new Database(join(dir, "w.db"));
    db.run("CREATE TABLE orders (day TEXT)");
    db.run("INSERT INTO orders VALUES ('2026-01-01')");
    db.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sql = (q: string, id = "wh"): Checked => ({ kind: "sql", connection_id: id, sql: q });

  test("sqlite: the first cell of the first row decides", async () => {
    const checks = checksWith([conn({ connection_id: "wh", conn_type: "sqlite", host: join(dir, "w.db") })]);
    expect(await checks.check(sql("SELECT count(*) FROM orders WHERE day = '2026-01-01'"), ctx)).toEqual({ done: true });
    expect(await checks.check(sql("SELECT count(*) FROM orders WHERE day = '2026-01-02'"), ctx)).toEqual({ done: false });
    expect(await checks.check(sql("SELECT day FROM orders WHERE 0"), ctx)).toEqual({ done: false });
  });

  test("a missing connection, or one of a type a sql sensor cannot use, is an error saying so", async () => {
    await expect(checksWith([]).check(sql("SELECT 1"), ctx)).rejects.toThrow('connection "wh" does not exist in team default');
    await expect(checksWith([conn({ connection_id: "wh", conn_type: "http" })]).check(sql("SELECT 1"), ctx)).rejects.toThrow(
      'connection "wh" is of type "http"; a sql sensor runs on postgres or sqlite connections',
    );
  });

  describePg("postgres", () => {
    test("a query on a postgres connection", async () => {
      const u = new URL(pgUrl());
      const checks = checksWith([
        conn({
          connection_id: "wh",
          conn_type: "postgres",
          host: u.hostname,
          port: Number(u.port || 5432),
          login: decodeURIComponent(u.username),
          password: u.password ? decodeURIComponent(u.password) : null,
          schema: u.pathname.slice(1),
        }),
      ]);
      expect(await checks.check(sql("SELECT 1"), ctx)).toEqual({ done: true });
      expect(await checks.check(sql("SELECT NULL"), ctx)).toEqual({ done: false });
    });
  });
});

describe("external task sensor", () => {
  const sensor: Checked = {
    kind: "external_task",
    external_dag_id: "producer",
    external_task_id: "publish",
    allowed_states: ["success"],
    failed_states: ["failed", "upstream_failed"],
  };
  test("done when every matching task instance is allowed; a failed one is an error; none yet is not yet", async () => {
    expect(await checksWith([], ["success", "success"]).check(sensor, ctx)).toEqual({ done: true });
    expect(await checksWith([], ["success", "running"]).check(sensor, ctx)).toEqual({ done: false });
    expect(await checksWith([], []).check(sensor, ctx)).toEqual({ done: false });
    await expect(checksWith([], ["success", "failed"]).check(sensor, ctx)).rejects.toThrow(
      'task "publish" of DAG "producer" for logical date 2026-01-01T00:00:00.000Z is failed (failed_states: failed, upstream_failed)',
    );
    await expect(checksWith([], ["success"]).check(sensor, { ...ctx, logical_date: null })).rejects.toThrow(
      'external_task sensor: run "r" has no logical date to match runs of "producer" by',
    );
  });
});

describe("external task sensor's execution_delta (Airflow's timedelta, subtracted from the logical date)", () => {
  const lookedAt: Date[] = [];
  const checks = new SensorChecks({
    getConnection: async () => null,
    externalStates: async (_team, _dag, date) => (lookedAt.push(date), ["success"]),
  });
  const sensor = (execution_delta: number): Checked => ({
    kind: "external_task",
    external_dag_id: "producer",
    allowed_states: ["success"],
    failed_states: ["failed"],
    execution_delta,
  });

  test("positive looks at an earlier run, negative at a later one: a negative delta was refused at load", async () => {
    await checks.check(sensor(3600), ctx);
    await checks.check(sensor(-3600), ctx);
    expect(lookedAt.map((d) => d.toISOString())).toEqual(["2025-12-31T23:00:00.000Z", "2026-01-01T01:00:00.000Z"]);
    const spec = parseDagSpec({
      dag_id: "consumer",
      tasks: [
        { task_id: "wait", operator: "sensor", sensor: { kind: "external_task", external_dag_id: "producer", execution_delta: -3600 } },
      ],
    });
    expect(spec.tasks[0]!.sensor).toMatchObject({ execution_delta: -3600 });
  });
});

describe("date_time sensor", () => {
  const at = (target_time: string): Checked => ({ kind: "date_time", target_time });
  const early = { ...ctx, now: new Date("2026-01-01T05:00:00Z") };

  test("target_time is a template (Airflow's DateTimeSensor templates it): the run's date decides the instant", async () => {
    const target = "{{ ds }}T06:00:00Z";
    expect(await checks().check(at(target), early)).toEqual({ done: false, doneAt: new Date("2026-01-01T06:00:00Z") });
    expect(await checks().check(at(target), { ...early, now: new Date("2026-01-01T06:00:00Z") })).toEqual({ done: true });
    // The next run's sensor waits for its own day.
    const next = { ...early, logical_date: new Date("2026-01-02T00:00:00Z"), now: new Date("2026-01-01T07:00:00Z") };
    expect(await checks().check(at(target), next)).toEqual({ done: false, doneAt: new Date("2026-01-02T06:00:00Z") });
  });

  test("a template that renders no date fails the check saying what it rendered; one no value can fix is an import error", async () => {
    await expect(checks().check(at("{{ run_id }}"), early)).rejects.toThrow(
      'sensor.target_time "{{ run_id }}" rendered "r", which is not an ISO 8601 date; make it render one, e.g. "{{ ds }}T06:00:00Z"',
    );
    const load = (target_time: string) =>
      parseDagSpec({ dag_id: "d", tasks: [{ task_id: "wait", operator: "sensor", sensor: { kind: "date_time", target_time } }] });
    expect(() => load("{{ ds | shout }}T06:00:00Z")).toThrow(
      'tasks[0].sensor.target_time: task "wait": template {{ ds | shout }} in sensor.target_time: unknown filter "shout"',
    );
    expect(() => load("tomorrow")).toThrow("not a valid ISO 8601 date");
  });

  const checks = () => checksWith([]);
});

describe("file sensor", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-file-sensor-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a template in the path is rendered for the run ({{ ds }}, Airflow's FileSensor example): the literal text was looked for", async () => {
    const checks = checksWith([]);
    const path = `${dir}/flags/{{ ds }}.txt`;
    expect(await checks.check({ kind: "file", path }, ctx)).toEqual({ done: false });
    await Bun.write(join(dir, "flags", "2026-01-01.txt"), "");
    expect(await checks.check({ kind: "file", path }, ctx)).toEqual({ done: true });
    // Another run's date looks for its own file.
    expect(await checks.check({ kind: "file", path }, { ...ctx, logical_date: new Date("2026-01-02T00:00:00Z") })).toEqual({ done: false });
  });
});
