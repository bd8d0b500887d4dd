/**
 * Fault: SIGKILL the server (the compiled binary) after run and task state changes committed and before their
 * webhooks were delivered (the receiver answers 503 until the crash), then restart it. The outbox rows were
 * written in the transactions of the changes, so after the restart every event is delivered, each exactly
 * once, signed. And the event stream resumes across a restart: GET /api/v2/leoflow/events with Last-Event-ID
 * replays exactly the events after that id from the store's event log.
 */
import { expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLeoflow, waitFor, waitForRun, type Leoflow } from "../e2e/harness";
import { freePort, report, writeDag } from "./helpers";

const SECRET = "fault-test-secret-0123";
const RUNS = ["r1", "r2"];
const TASK = { task_id: "work", operator: "bash", bash_command: "true" };

test("SIGKILL between the state change and its delivery, restart: every event delivered exactly once", async () => {
  let up = false;
  const accepted: { delivery: string; type: string; run: string; state: string; signed: boolean }[] = [];
  let refused = 0;
  const receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = await req.text();
      if (!up) return (void refused++, new Response("down for maintenance", { status: 503 }));
      const ts = req.headers.get("x-leoflow-timestamp")!;
      const event = JSON.parse(body);
      accepted.push({
        delivery: req.headers.get("x-leoflow-delivery")!,
        type: event.type,
        run: event.run_id,
        state: event.state,
        signed: req.headers.get("x-leoflow-signature") === `sha256=${createHmac("sha256", SECRET).update(`${ts}.${body}`).digest("hex")}`,
      });
      return new Response(null, { status: 204 });
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "leoflow-fault-webhooks-"));
  writeDag(dir, { dag_id: "hooked", tasks: [TASK] });
  const args = [
    "--port",
    String(await freePort()),
    "--webhook-retry-base",
    "0.2",
    "--webhook-max-attempts",
    "1000",
    "--webhook-timeout",
    "2",
  ];
  let lf = await startLeoflow({ dir, args });
  try {
    const hook = await lf.api("POST", "/api/v2/leoflow/webhooks", {
      url: `http://127.0.0.1:${receiver.port}/hook`,
      event_types: ["dag_run.finished", "task_instance.state_changed"],
      dag_ids: ["hooked"],
      secret: SECRET,
    });
    expect(hook.status).toBe(201);
    await lf.api("PATCH", "/api/v2/dags/hooked", { is_paused: false });
    for (const r of RUNS)
      expect((await lf.api("POST", "/api/v2/dags/hooked/dagRuns", { dag_run_id: r, logical_date: null })).status).toBe(200);
    for (const r of RUNS) expect((await waitForRun(lf, "hooked", r, 30_000)).state).toBe("success");
    const pending = async (l: Leoflow) => (await l.api("GET", `/api/v2/leoflow/webhooks/${hook.body.id}/deliveries?state=pending`)).body;
    // Every event is committed in the outbox, and the receiver has refused some attempts: nothing delivered yet.
    const expected = RUNS.length * 5; // per run: scheduled, queued, running, success, and dag_run.finished
    let last: unknown;
    await waitFor(
      async () => ((last = await pending(lf)), (last as { total_entries: number }).total_entries === expected && refused > 0),
      20_000,
      () => `pending: ${JSON.stringify(last)}, refused ${refused}`,
    );
    expect(accepted).toEqual([]);
    expect(await lf.stop("SIGKILL")).not.toBe(0);

    up = true;
    const restarted = Date.now();
    lf = await startLeoflow({ dir, args });
    await waitFor(
      async () => (await pending(lf)).total_entries === 0,
      60_000,
      () => `still pending after the restart\n${lf.output().slice(-2000)}`,
    );
    const recoverMs = Date.now() - restarted;
    const delivered = (await lf.api("GET", `/api/v2/leoflow/webhooks/${hook.body.id}/deliveries?state=delivered&limit=100`)).body;
    report({
      fault: "SIGKILL before webhook delivery + restart",
      runs: RUNS.length,
      tasks: expected,
      lost: expected - accepted.length,
      duplicated: accepted.length - new Set(accepted.map((a) => a.delivery)).size,
      recoverMs,
    });
    expect(delivered.total_entries).toBe(expected);
    expect(new Set(accepted.map((a) => a.delivery)).size).toBe(accepted.length);
    expect(accepted.every((a) => a.signed)).toBe(true);
    const seen = accepted.map((a) => `${a.run} ${a.type} ${a.state}`).sort();
    expect(seen).toEqual(
      RUNS.flatMap((r) => [
        `${r} dag_run.finished success`,
        ...["queued", "running", "scheduled", "success"].map((s) => `${r} task_instance.state_changed ${s}`),
      ]).sort(),
    );
  } finally {
    await lf.stop();
    receiver.stop(true);
  }
}, 120_000);

/** Reads an SSE response until `n` events with ids arrived; returns [id, type, state]. */
async function readEvents(res: Response, n: number): Promise<[number, string, string][]> {
  const reader = res.body!.getReader();
  const out: [number, string, string][] = [];
  let buf = "";
  while (out.length < n) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const id = block.match(/^id: (\d+)$/m)?.[1];
      const data = block.match(/^data: (.*)$/m)?.[1];
      if (id && data) {
        const e = JSON.parse(data);
        out.push([Number(id), e.type, e.state]);
      }
    }
  }
  await reader.cancel();
  return out;
}

test("the event stream resumes across a restart of the binary from Last-Event-ID", async () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-fault-events-"));
  writeDag(dir, { dag_id: "streamed", tasks: [TASK] });
  const args = ["--port", String(await freePort())];
  let lf = await startLeoflow({ dir, args });
  const stream = async (l: Leoflow, lastId: number) => {
    const token = (await l.api("POST", "/auth/token", { username: "admin", password: "e2e-admin-password" })).body.access_token;
    return fetch(`${l.url}/api/v2/leoflow/events?dag_id=streamed`, {
      headers: { authorization: `Bearer ${token}`, "last-event-id": String(lastId) },
    });
  };
  try {
    await lf.api("PATCH", "/api/v2/dags/streamed", { is_paused: false });
    expect((await lf.api("POST", "/api/v2/dags/streamed/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    expect((await waitForRun(lf, "streamed", "r1", 30_000)).state).toBe("success");
    // created, started, 4 task states, finished (the run's start and the first task's scheduling may swap)
    const before = await waitFor(
      async () => {
        const got = await readEvents(await stream(lf, 0), 7);
        return got.length === 7 && got;
      },
      10_000,
      () => "the first run's 7 events never reached the stream",
    );
    expect(before.map(([, type, state]) => `${type} ${state}`).sort()).toEqual([
      "dag_run.created queued",
      "dag_run.finished success",
      "dag_run.started running",
      "task_instance.state_changed queued",
      "task_instance.state_changed running",
      "task_instance.state_changed scheduled",
      "task_instance.state_changed success",
    ]);
    expect(await lf.stop()).toBe(0);

    lf = await startLeoflow({ dir, args });
    const cut = before[3]![0];
    const resumed = await readEvents(await stream(lf, cut), 3);
    expect(resumed).toEqual(before.slice(4));
  } finally {
    await lf.stop();
  }
}, 90_000);
