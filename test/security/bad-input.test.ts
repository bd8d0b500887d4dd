/**
 * Bad input, no 500s: the compiled binary on SQLite and on Postgres, driven over HTTP as a user (or a
 * hostile client) would. NUL and lone surrogates in every field a request or a task writes; JSON nested
 * past 64 levels; 300 concurrent triggers without dag_run_id; repeated failed logins; an executor this
 * build does not run. Each store must answer the same way, and never with a 500.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { BINARY, startLeoflow, waitForRun, type Leoflow } from "../e2e/harness";
import { describePg, freshSchemas, pgUrlWithSchema } from "../support/postgres";

const FIXTURES = resolve(import.meta.dir, "../fixtures/security");

/** `levels` objects nested: {a:{a:…{}}}; the outermost is level 1. */
function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

/** Posts a raw JSON text (so lone surrogates travel as `\ud800` escapes, exactly as a client sends them). */
async function postRaw(lf: Leoflow, method: string, path: string, json: string, headers: Record<string, string> = {}) {
  const token = (await lf.api("POST", "/auth/token", { username: "admin", password: "e2e-admin-password" })).body.access_token;
  const res = await fetch(lf.url + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
    body: json,
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body };
}

function badInputSuite(store: "sqlite" | "postgres", extraArgs: () => string[]) {
  let lf: Leoflow;
  beforeAll(async () => {
    lf = await startLeoflow({ dagsFrom: FIXTURES, args: ["--trusted-proxy-hops", "1", ...extraArgs()] });
  }, 60_000);
  afterAll(async () => {
    await lf?.stop();
  });

  /** Every probe: [what, method, path, raw JSON body]. The escapes stay escapes until the server parses them. */
  const probes: [string, string, string, string][] = [
    ["conf string with NUL", "POST", "/api/v2/dags/parked/dagRuns", '{"logical_date": null, "conf": {"a": "x\\u0000y"}}'],
    ["conf string with a lone surrogate", "POST", "/api/v2/dags/parked/dagRuns", '{"logical_date": null, "conf": {"a": ["\\ud800"]}}'],
    ["conf key with NUL", "POST", "/api/v2/dags/parked/dagRuns", '{"logical_date": null, "conf": {"k\\u0000": 1}}'],
    ["run note with NUL", "POST", "/api/v2/dags/parked/dagRuns", '{"logical_date": null, "note": "n\\u0000"}'],
    ["variable value with NUL", "POST", "/api/v2/variables", '{"key": "v1", "value": "a\\u0000b"}'],
    ["variable value with a lone surrogate", "POST", "/api/v2/variables", '{"key": "v2", "value": "\\udc00"}'],
    ["variable JSON value with NUL", "POST", "/api/v2/variables", '{"key": "v3", "value": {"x": "\\u0000"}}'],
    ["variable description with NUL", "POST", "/api/v2/variables", '{"key": "v4", "value": "ok", "description": "\\u0000"}'],
    ["variable key with NUL", "POST", "/api/v2/variables", '{"key": "v\\u0000", "value": "ok"}'],
    ["connection host with NUL", "POST", "/api/v2/connections", '{"connection_id": "c1", "conn_type": "http", "host": "h\\u0000"}'],
    [
      "connection password with a lone surrogate",
      "POST",
      "/api/v2/connections",
      '{"connection_id": "c2", "conn_type": "http", "password": "p\\ud800"}',
    ],
    [
      "connection extra with NUL",
      "POST",
      "/api/v2/connections",
      '{"connection_id": "c3", "conn_type": "http", "extra": "{\\"k\\": \\"\\u0000\\"}"}',
    ],
  ];

  test.each(probes)(`${store}: %s → 400 saying where and why`, async (_what, method, path, json) => {
    const r = await postRaw(lf, method, path, json);
    expect(r.status).toBe(400);
    expect(String(r.body.detail)).toMatch(/contains (U\+0000 \(NUL\)|a lone UTF-16 surrogate)/);
  });

  test(`${store}: nothing of the refused writes was stored`, async () => {
    expect((await lf.api("GET", "/api/v2/dags/parked/dagRuns")).body.total_entries).toBe(0);
    expect((await lf.api("GET", "/api/v2/variables")).body.total_entries).toBe(0);
    expect((await lf.api("GET", "/api/v2/connections")).body.total_entries).toBe(0);
  });

  test(`${store}: text that is fine round-trips unchanged (accents, emoji, an escaped \\u0000 inside a string)`, async () => {
    const value = "é 😀 literally \\u0000 as six characters";
    expect((await lf.api("POST", "/api/v2/variables", { key: "fine", value, description: "ok ✓" })).status).toBe(201);
    expect((await lf.api("GET", "/api/v2/variables/fine")).body).toMatchObject({ value, description: "ok ✓" });
    const r = await lf.api("POST", "/api/v2/dags/parked/dagRuns", { dag_run_id: "fine", logical_date: null, conf: { s: "é😀" } });
    expect(r.status).toBe(200);
    expect((await lf.api("GET", "/api/v2/dags/parked/dagRuns/fine")).body.conf).toEqual({ s: "é😀" });
  });

  test(`${store}: a lookup by a key holding NUL is not a 500`, async () => {
    for (const path of ["/api/v2/variables/a%00b", "/api/v2/connections/a%00b", "/api/v2/dags/parked/dagRuns/a%00b"]) {
      const r = await lf.api("GET", path);
      expect([400, 404]).toContain(r.status);
    }
  });

  test(`${store}: conf nested 65 levels → 400 naming the limit of 64 and where`, async () => {
    const r = await lf.api("POST", "/api/v2/dags/parked/dagRuns", { logical_date: null, conf: nested(65) });
    expect(r.status).toBe(400);
    expect(r.body.detail).toStartWith("JSON nested deeper than 64 levels at conf.a.a.a.a.a.a.a…");
    const v = await lf.api("POST", "/api/v2/variables", { key: "deep", value: nested(65) });
    expect(v.status).toBe(400);
    expect(v.body.detail).toContain("nested deeper than 64 levels at value.a");
    expect((await lf.api("POST", "/api/v2/dags/parked/dagRuns", { dag_run_id: "d64", logical_date: null, conf: nested(64) })).status).toBe(
      200,
    );
  });

  test(`${store}: a connection's extra (JSON in a string) nested 100,000 deep → 400, and the list still answers`, async () => {
    const extra = `{"a":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const r = await postRaw(lf, "POST", "/api/v2/connections", JSON.stringify({ connection_id: "deep", conn_type: "http", extra }));
    expect(r.status).toBe(400);
    expect(r.body.detail).toStartWith("JSON nested deeper than 64 levels at extra.a[0][0]");
    expect((await lf.api("GET", "/api/v2/connections")).status).toBe(200);
  });

  test(`${store}: a request body nested 100,000 deep → 400, not a stack overflow`, async () => {
    const raw = `{"logical_date":null,"conf":${'{"a":'.repeat(100_000)}{}${"}".repeat(100_000)}}`;
    const r = await postRaw(lf, "POST", "/api/v2/dags/parked/dagRuns", raw);
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain("nested deeper than 64 levels at conf.a");
  });

  test(`${store}: a task's NUL, lone surrogate or 65-deep return value fails the task saying why; NUL in its log is kept as U+FFFD`, async () => {
    const t = await lf.api("POST", "/api/v2/dags/bad_output/dagRuns", { dag_run_id: "out", logical_date: null });
    expect(t.status).toBe(200);
    await waitForRun(lf, "bad_output", "out");
    const tis = (await lf.api("GET", "/api/v2/dags/bad_output/dagRuns/out/taskInstances")).body.task_instances;
    const byId = Object.fromEntries(tis.map((ti: any) => [ti.task_id, ti]));
    expect(byId.nul_return).toMatchObject({ state: "failed" });
    expect(byId.nul_return.note).toContain(
      "return value refused: XCom return_value of task nul_return cannot be stored: return_value.s contains U+0000 (NUL)",
    );
    expect(byId.surrogate_return.state).toBe("failed");
    expect(byId.surrogate_return.note).toContain("return_value.s contains a lone UTF-16 surrogate (U+D800)");
    expect(byId.deep_return.state).toBe("failed");
    expect(byId.deep_return.note).toContain("nested deeper than 64 levels");
    expect(byId.nul_log.state).toBe("success");
    const log = (await lf.api("GET", "/api/v2/dags/bad_output/dagRuns/out/taskInstances/nul_log/logs/1")).body.content;
    const events = log.map((l: any) => l.event);
    expect(events).toContain("before\uFFFDafter");
    expect(events.some((e: string) => e.startsWith("bad \uFFFD"))).toBe(true);
    const xcom = await lf.api("GET", "/api/v2/dags/bad_output/dagRuns/out/taskInstances/nul_log/xcomEntries/return_value");
    expect(xcom.body.value).toEqual({ ok: "é" });
  }, 90_000);

  test(`${store}: 300 concurrent triggers without dag_run_id → 300 distinct runs, all listed`, async () => {
    const before = (await lf.api("GET", "/api/v2/dags/parked/dagRuns")).body.total_entries;
    const all = await Promise.all(Array.from({ length: 300 }, () => lf.api("POST", "/api/v2/dags/parked/dagRuns", { logical_date: null })));
    expect(all.filter((r) => r.status !== 200).map((r) => [r.status, r.body])).toEqual([]);
    const ids = new Set(all.map((r) => r.body.dag_run_id));
    expect(ids.size).toBe(300);
    for (const id of ids) expect(id).toMatch(/^manual__\d{4}-\d\d-\d\dT[\d:.]+\+00:00_[A-Za-z0-9]{8}$/);
    expect((await lf.api("GET", "/api/v2/dags/parked/dagRuns?limit=1")).body.total_entries).toBe(before + 300);
    // An explicit dag_run_id that is taken stays a 409.
    const taken = await lf.api("POST", "/api/v2/dags/parked/dagRuns", { dag_run_id: "fine", logical_date: null });
    expect(taken.status).toBe(409);
  }, 60_000);

  test(`${store}: failed logins → 429 with Retry-After; the right password still works from another address`, async () => {
    const login = async (password: string, address: string) => {
      const res = await fetch(`${lf.url}/auth/token`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": address },
        body: JSON.stringify({ username: "admin", password }),
      });
      return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
    };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login("wrong", "203.0.113.7")).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const refused = await login("e2e-admin-password", "203.0.113.7");
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused.body.detail).toContain("Too many failed logins from 203.0.113.7");
    expect((await login("e2e-admin-password", "198.51.100.2")).status).toBe(201);
  });
}

describe("bad input on sqlite (compiled binary)", () => badInputSuite("sqlite", () => []));

describePg("bad input on postgres (compiled binary)", () => {
  let db = "";
  // The suite's hooks first: afterAll hooks run in the order they were registered, so the server stops before
  // freshSchemas drops its schema (a drop under a live server can deadlock with its queries: seen in CI).
  badInputSuite("postgres", () => [`--db=${db}`]);
  const schema = freshSchemas().next();
  db = pgUrlWithSchema(schema);
});

describe("kubernetes executor flags are checked at start", () => {
  test.each([["lite"], ["pro"]])(
    "--mode=%s --executor=kubernetes with tolerations that are not JSON is refused at start, naming the flag",
    async (mode) => {
      const proc = Bun.spawn(
        [
          BINARY,
          "serve",
          `--mode=${mode}`,
          "--executor=kubernetes",
          "--k8s-tolerations",
          "{bad",
          "--db=postgres://u@127.0.0.1:1/x",
          "--port",
          "0",
        ],
        {
          stdout: "pipe",
          stderr: "pipe",
          env: { ...process.env, LEOFLOW_JWT_SECRET: "0123456789abcdef0123" },
        },
      );
      const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(code).not.toBe(0);
      expect(err).toContain("--k8s-tolerations: is not JSON");
    },
  );
});
