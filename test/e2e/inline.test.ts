/**
 * Inline http tasks end to end: the compiled binary runs a DAG mixing `bash` and `http` tasks with XCom
 * flowing both ways (bash return value → templated http body; http response → bash via LEOFLOW_XCOM_CALL),
 * with a variable and a connection created over the API, against a real local HTTP server. It also measures
 * (prints, never asserts) the time from an upstream's success to its inline downstream's request arriving:
 * LEOFLOW_INLINE_MEASURE_RUNS sets how many runs (default 20; the note's numbers use 200), and
 * LEOFLOW_INLINE_MEASURE_MODE=sequential runs them one at a time instead of all at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { startLeoflow, waitFor, waitForRun, type Leoflow } from "./harness";

const FIXTURES = resolve(import.meta.dir, "../fixtures/inline");
const API_KEY = "KEY-e2e-secret-123";
const PASSWORD = "PW-e2e-secret-456";

interface Hit {
  method: string;
  path: string;
  body: string;
  auth: string | null;
  at: number;
}

describe("inline http tasks (compiled binary)", () => {
  let lf: Leoflow;
  let server: ReturnType<typeof Bun.serve>;
  const hits: Hit[] = [];
  const pings = new Map<string, number>();

  beforeAll(async () => {
    server = Bun.serve({
      port: 0,
      async fetch(req) {
        const at = Date.now();
        const url = new URL(req.url);
        if (url.pathname === "/ping") {
          pings.set(url.searchParams.get("run") ?? "", at);
          return new Response("pong");
        }
        const body = await req.text();
        hits.push({ method: req.method, path: url.pathname + url.search, body, auth: req.headers.get("authorization"), at });
        return Response.json({ accepted: JSON.parse(body || "null"), id: "job-7" }, { status: 201 });
      },
    });
    lf = await startLeoflow({ dagsFrom: FIXTURES });
    const base = `http://127.0.0.1:${server.port}`;
    const created = await Promise.all([
      lf.api("POST", "/api/v2/variables", { key: "hook_api_key", value: API_KEY }),
      lf.api("POST", "/api/v2/variables", { key: "hook_base", value: base }),
      lf.api("POST", "/api/v2/connections", { connection_id: "hook", conn_type: "http", host: base, login: "bot", password: PASSWORD }),
    ]);
    expect(created.map((r) => r.status)).toEqual([201, 201, 201]);
  }, 30_000);
  afterAll(async () => {
    await lf?.stop();
    server?.stop(true);
  });

  test("the API masks what it stores: the password and secret-named variables read as ***", async () => {
    expect((await lf.api("GET", "/api/v2/connections/hook")).body).toMatchObject({ connection_id: "hook", login: "bot", password: "***" });
    expect((await lf.api("GET", "/api/v2/variables/hook_api_key")).body.value).toBe("***");
  });

  test("an inline task over the duration cap is refused at DAG load with the reason", async () => {
    const errors = (await lf.api("GET", "/api/v2/importErrors")).body.import_errors;
    const slow = errors.find((e: any) => e.filename.endsWith("too_slow.json"));
    expect(slow.stack_trace).toContain("execution_timeout 3600s is over the inline task cap of 300s");
    expect((await lf.api("GET", "/api/v2/dags/inline_too_slow")).status).toBe(404);
  });

  test("bash → http → bash: XCom flows into the request body and back out of the response", async () => {
    const trigger = await lf.api("POST", "/api/v2/dags/inline_mixed/dagRuns", {
      dag_run_id: "mixed-1",
      logical_date: "2026-05-01T00:00:00Z",
    });
    expect(trigger.status).toBe(200);
    const run = await waitForRun(lf, "inline_mixed", "mixed-1");
    expect(run.state).toBe("success");

    const hit = hits.find((h) => h.path.startsWith("/hook/"))!;
    expect(hit.method).toBe("POST");
    expect(hit.path).toBe(`/hook/2026-05-01?api_key=${API_KEY}&run=mixed-1`);
    expect(JSON.parse(hit.body)).toEqual({ n: 5, who: "ada", say: "hello ada" });
    expect(hit.auth).toBe(`Basic ${btoa(`bot:${PASSWORD}`)}`);

    const tis = (await lf.api("GET", "/api/v2/dags/inline_mixed/dagRuns/mixed-1/taskInstances")).body.task_instances;
    const call = tis.find((t: any) => t.task_id === "call");
    expect(call).toMatchObject({ state: "success", hostname: "inline", executor: "inline", queued_when: null, try_number: 1 });

    const xcom = async (task: string) =>
      (await lf.api("GET", `/api/v2/dags/inline_mixed/dagRuns/mixed-1/taskInstances/${task}/xcomEntries/return_value`)).body.value;
    const response = { accepted: { n: 5, who: "ada", say: "hello ada" }, id: "job-7" };
    expect(await xcom("call")).toEqual(response);
    expect(await xcom("consume")).toEqual(response);

    const log = async (task: string) =>
      (await lf.api("GET", `/api/v2/dags/inline_mixed/dagRuns/mixed-1/taskInstances/${task}/logs/1`)).body.content
        .map((l: any) => l.event)
        .join("\n");
    const callLog = await log("call");
    expect(callLog).toMatch(
      new RegExp(
        `attempt 1/4: POST http://127\\.0\\.0\\.1:${server.port}/hook/2026-05-01\\?api_key=\\*\\*\\*&run=mixed-1 -> HTTP 201 in \\d+ ms`,
      ),
    );
    expect(callLog).toContain("as XCom return_value");
    expect(await log("consume")).toContain(`got ${JSON.stringify(response)}`);
    for (const secret of [API_KEY, PASSWORD, btoa(`bot:${PASSWORD}`)]) {
      expect(callLog).not.toContain(secret);
      expect(lf.output()).not.toContain(secret);
    }
  }, 60_000);

  test("measure: upstream success → inline request arrival (printed, not asserted)", async () => {
    const runs = Number(process.env.LEOFLOW_INLINE_MEASURE_RUNS ?? 20);
    const ids = Array.from({ length: runs }, (_, i) => `lat-${i}`);
    // sequential: one run at a time (the path's own latency); default: all at once (latency under load).
    const sequential = process.env.LEOFLOW_INLINE_MEASURE_MODE === "sequential";
    for (const id of ids) {
      expect((await lf.api("POST", "/api/v2/dags/inline_latency/dagRuns", { dag_run_id: id, logical_date: null })).status).toBe(200);
      if (sequential) await waitForRun(lf, "inline_latency", id);
    }
    await waitFor(
      () => pings.size >= runs,
      30_000 + runs * 500,
      () => `only ${pings.size} of ${runs} pings arrived\n${lf.output().slice(-3000)}`,
    );
    const gaps: number[] = [];
    for (const id of ids) {
      const run = await waitForRun(lf, "inline_latency", id);
      expect(run.state).toBe("success");
      const up = (await lf.api("GET", `/api/v2/dags/inline_latency/dagRuns/${id}/taskInstances/up`)).body;
      gaps.push(pings.get(id)! - Date.parse(up.end_date));
    }
    gaps.sort((a, b) => a - b);
    const pct = (p: number) => gaps[Math.min(gaps.length - 1, Math.ceil((p / 100) * gaps.length) - 1)];
    console.log(
      `inline latency (upstream end_date → request at server) over ${runs} runs${sequential ? " one at a time" : " at once"}: p50=${pct(50)} ms p99=${pct(99)} ms max=${gaps.at(-1)} ms`,
    );
  }, 300_000);
});
