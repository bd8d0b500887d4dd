/**
 * Webhooks through the API (issue 20): CRUD of the team's subscriptions with a write-only secret, precise
 * 400s, team isolation, and real deliveries to a local Bun.serve receiver that verifies every signature with
 * the recipe of docs/webhooks.md: two failures then success, dead after the maximum, redeliver.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { WebhookDeliverer } from "../../../src/events";
import { Metrics } from "../../../src/observability";
import { SecretsCipher, withSecrets } from "../../../src/store";
import { waitFor } from "../../support/leoflow-process";
import { forEachApiStore, type Harness } from "./harness";

const SECRET = "whsec-0123456789abcdef";
const HOOKS = "/api/v2/leoflow/webhooks";

/** docs/webhooks.md, "Verifying a delivery", as a receiver would write it. */
function verify(secret: string, req: { timestamp: string | null; signature: string | null; body: string }, nowS: number): boolean {
  if (!req.timestamp || !req.signature) return false;
  if (Math.abs(nowS - Number(req.timestamp)) > 300) return false; // the replay window: 5 minutes
  const expected = `sha256=${createHmac("sha256", secret).update(`${req.timestamp}.${req.body}`).digest("hex")}`;
  return expected.length === req.signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(req.signature));
}

interface Received {
  headers: Record<string, string>;
  body: any;
  verified: boolean;
}

/** A receiver answering with `statuses` in turn (then the last one forever). */
function receiver(statuses: number[]) {
  const received: Received[] = [];
  let i = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = await req.text();
      const h = (n: string) => req.headers.get(n);
      received.push({
        headers: req.headers.toJSON(),
        body: JSON.parse(body),
        verified: verify(SECRET, { timestamp: h("x-leoflow-timestamp"), signature: h("x-leoflow-signature"), body }, Date.now() / 1000),
      });
      const status = statuses[Math.min(i++, statuses.length - 1)]!;
      return new Response(status >= 300 ? "receiver is down" : "ok", { status });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/hook`, received, stop: () => server.stop(true) };
}

const open: { stop(): unknown }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.stop()));
});

function deliverer(h: Harness, metrics = new Metrics()) {
  const w = new WebhookDeliverer({ store: h.store, metrics, pollMs: 20, retry: { maxAttempts: 3, baseDelayMs: 20 }, timeoutMs: 2000 });
  w.start();
  open.push(w);
  return { worker: w, metrics };
}

forEachApiStore((makeHarness) => {
  describe("webhooks API", () => {
    test("create, list, get, patch, delete; the secret is never answered and is sealed at rest", async () => {
      const h = await makeHarness();
      const created = await h.json("POST", HOOKS, {
        body: { url: "https://hooks.example.com/leoflow", event_types: ["dag_run.finished"], dag_ids: ["etl"], secret: SECRET },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        url: "https://hooks.example.com/leoflow",
        event_types: ["dag_run.finished"],
        dag_ids: ["etl"],
        enabled: true,
      });
      expect(JSON.stringify(created.body)).not.toContain(SECRET);
      const id = created.body.id;
      expect((await h.json("GET", HOOKS)).body).toEqual({ webhooks: [created.body], total_entries: 1 });
      const patched = await h.json("PATCH", `${HOOKS}/${id}`, { body: { enabled: false, secret: "a-new-secret-0123456789" } });
      expect(patched.body).toMatchObject({ id, enabled: false });
      expect(JSON.stringify(patched.body)).not.toContain("a-new-secret");
      // At rest the secret is the cipher's envelope; the worker (through the secrets layer) gets the text.
      await h.json("POST", `${HOOKS}/${id}/test`);
      expect(await h.rawStore.claimWebhookDeliveries(new Date(), 1, 0)).toEqual([]); // disabled: its deliveries wait
      await h.json("PATCH", `${HOOKS}/${id}`, { body: { enabled: true } });
      const [sealed] = await h.rawStore.claimWebhookDeliveries(new Date(), 1, 0);
      expect(sealed!.secret).toStartWith("lf1:");
      expect(sealed!.secret).not.toContain("a-new-secret");
      expect((await h.store.claimWebhookDeliveries(new Date(), 1, 0))[0]!.secret).toBe("a-new-secret-0123456789");
      expect((await h.call("DELETE", `${HOOKS}/${id}`)).status).toBe(204);
      expect(await h.json("GET", `${HOOKS}/${id}`)).toEqual({
        status: 404,
        body: { detail: `webhook ${id} was not found in this team; list them with GET /api/v2/leoflow/webhooks` },
      });
    });

    test("precise 400s: a URL that is not http(s), an unknown event type (listing the valid ones), a short secret", async () => {
      const h = await makeHarness();
      const post = (body: object) =>
        h.json("POST", HOOKS, { body: { url: "http://127.0.0.1:1/x", event_types: ["*"], secret: SECRET, ...body } });
      expect(await post({ url: "ftp://example.com/x" })).toEqual({
        status: 400,
        body: { detail: 'url "ftp://example.com/x" is not an http(s) URL; use e.g. https://hooks.example.com/leoflow' },
      });
      expect(await post({ event_types: ["dag_run.finishd"] })).toEqual({
        status: 400,
        body: {
          detail:
            'unknown event type "dag_run.finishd"; valid types: *, dag_run.started, dag_run.finished, dag_run.state_changed, ' +
            "task_instance.state_changed, task_instance.dead_lettered, scheduler.leader_changed, dag.import_error, dag_run.deadline_missed, callback.failed",
        },
      });
      expect((await post({ secret: "short" })).body.detail).toStartWith("secret must be a string of 16 to 512 characters");
      expect((await h.json("GET", HOOKS)).body.total_entries).toBe(0);
    });

    test("a viewer may not see or manage webhooks", async () => {
      const h = await makeHarness();
      const token = await h.token("viewer");
      expect((await h.call("GET", HOOKS, { token })).status).toBe(403);
      expect((await h.call("POST", HOOKS, { token, body: { url: "http://x.example/", event_types: ["*"], secret: SECRET } })).status).toBe(
        403,
      );
    });
  });

  describe("webhook deliveries to a real receiver", () => {
    test("a run's events arrive signed, in order, with the documented headers", async () => {
      const h = await makeHarness();
      const r = receiver([204]);
      open.push(r);
      const hook = (
        await h.json("POST", HOOKS, {
          body: { url: r.url, event_types: ["dag_run.started", "task_instance.state_changed"], dag_ids: ["etl"], secret: SECRET },
        })
      ).body;
      deliverer(h);
      const run = (await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null } })).body;
      const runRow = (await h.store.getDagRun("default", "etl", run.dag_run_id))!;
      const ti = (await h.store.listTaskInstances("default", "etl", run.dag_run_id)).items.find((t) => t.task_id === "extract")!;
      await h.store.setDagRunState(runRow.id, ["queued"], "running", new Date());
      await h.store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], new Date());

      await waitFor(
        () => r.received.length >= 2,
        10_000,
        () => `received ${JSON.stringify(r.received.map((x) => x.body))}`,
      );
      expect(r.received.map((x) => [x.body.type, x.body.state, x.body.task_id ?? null])).toEqual([
        ["dag_run.started", "running", null],
        ["task_instance.state_changed", "scheduled", "extract"],
      ]);
      expect(r.received.every((x) => x.verified)).toBe(true);
      expect(r.received[1]!.headers).toMatchObject({
        "content-type": "application/json",
        "x-leoflow-event": "task_instance.state_changed",
      });
      // The receiver answers before the deliverer records its answer: wait for the record, then read it.
      let deliveries: any = null;
      await waitFor(
        async () => {
          deliveries = (await h.json("GET", `${HOOKS}/${hook.id}/deliveries`)).body;
          return deliveries.deliveries.every((d: any) => d.state !== "pending");
        },
        10_000,
        () => `deliveries still pending: ${JSON.stringify(deliveries)}`,
      );
      expect(deliveries.deliveries.map((d: any) => [d.state, d.attempts, d.last_status])).toEqual([
        ["delivered", 1, 204],
        ["delivered", 1, 204],
      ]);
      expect(r.received.map((x) => x.headers["x-leoflow-delivery"])).toEqual(deliveries.deliveries.map((d: any) => String(d.id)).reverse());
    });

    test("two failures then success: delivered on the third attempt, the same delivery id each time", async () => {
      const h = await makeHarness();
      const r = receiver([500, 503, 200]);
      open.push(r);
      const hook = (await h.json("POST", HOOKS, { body: { url: r.url, event_types: ["*"], secret: SECRET } })).body;
      const { metrics } = deliverer(h);
      const ping = await h.json("POST", `${HOOKS}/${hook.id}/test`);
      expect(ping.status).toBe(202);
      await waitFor(
        async () => (await h.json("GET", `${HOOKS}/${hook.id}/deliveries?state=delivered`)).body.total_entries === 1,
        10_000,
        () => `received ${r.received.length}`,
      );
      expect(r.received.map((x) => [x.body.type, x.headers["x-leoflow-delivery"], x.verified])).toEqual([
        ["webhook.ping", String(ping.body.delivery_id), true],
        ["webhook.ping", String(ping.body.delivery_id), true],
        ["webhook.ping", String(ping.body.delivery_id), true],
      ]);
      const [d] = (await h.json("GET", `${HOOKS}/${hook.id}/deliveries`)).body.deliveries;
      expect(d).toMatchObject({ state: "delivered", attempts: 3, last_status: 200, last_error: null });
      expect(metrics.render()).toContain('leoflow_webhook_deliveries_total{result="failed"} 2');
      expect(metrics.render()).toContain('leoflow_webhook_deliveries_total{result="delivered"} 1');
    });

    test("dead after the maximum with the last error; redeliver sends it again", async () => {
      const h = await makeHarness();
      const r = receiver([500, 500, 500, 200]);
      open.push(r);
      const hook = (await h.json("POST", HOOKS, { body: { url: r.url, event_types: ["*"], secret: SECRET } })).body;
      deliverer(h);
      await h.json("POST", `${HOOKS}/${hook.id}/test`);
      const dead = await waitFor(
        async () => (await h.json("GET", `${HOOKS}/${hook.id}/deliveries?state=dead`)).body.deliveries[0],
        10_000,
        () => `received ${r.received.length}`,
      );
      expect(dead).toMatchObject({
        state: "dead",
        attempts: 3,
        last_status: 500,
        last_error: "HTTP 500: receiver is down",
        next_attempt_at: null,
      });
      expect(r.received).toHaveLength(3);

      const again = await h.json("POST", `${HOOKS}/deliveries/${dead.id}/redeliver`);
      expect(again).toMatchObject({ status: 202, body: { id: dead.id, state: "pending", attempts: 0 } });
      await waitFor(
        async () => (await h.json("GET", `${HOOKS}/${hook.id}/deliveries?state=delivered`)).body.total_entries === 1,
        10_000,
        () => `received ${r.received.length}`,
      );
      expect(r.received).toHaveLength(4);
      expect((await h.json("POST", `${HOOKS}/deliveries/${dead.id}/redeliver`)).status).toBe(202); // delivered: may be sent again
    });

    test("a secret sealed under another key: the attempt fails saying how to fix it, and nothing is sent", async () => {
      const h = await makeHarness();
      const r = receiver([200]);
      open.push(r);
      const hook = (await h.json("POST", HOOKS, { body: { url: r.url, event_types: ["*"], secret: SECRET } })).body;
      const otherKey = withSecrets(h.rawStore, new SecretsCipher(Buffer.alloc(32, 7)));
      const w = new WebhookDeliverer({ store: otherKey, pollMs: 20, retry: { maxAttempts: 1, baseDelayMs: 20 } });
      w.start();
      open.push(w);
      await h.json("POST", `${HOOKS}/${hook.id}/test`);
      const dead = await waitFor(
        async () => (await h.json("GET", `${HOOKS}/${hook.id}/deliveries?state=dead`)).body.deliveries[0],
        10_000,
        () => "no dead delivery",
      );
      expect(dead.last_error).toStartWith(`cannot decrypt the secret of webhook ${hook.id}`);
      expect(dead.last_error).toEndWith(`; set the webhook's secret again (PATCH /api/v2/leoflow/webhooks/${hook.id})`);
      expect(r.received).toEqual([]);
    });

    test("stopping the worker cuts a request to a stuck receiver; the delivery stays pending, its failure unrecorded", async () => {
      const h = await makeHarness();
      let arrived = 0;
      const stuck = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (arrived++, new Promise<Response>(() => {})) });
      open.push({ stop: () => stuck.stop(true) });
      const hook = (await h.json("POST", HOOKS, { body: { url: `http://127.0.0.1:${stuck.port}/`, event_types: ["*"], secret: SECRET } }))
        .body;
      // A timeout longer than the test's own: only the stop can end the request.
      const w = new WebhookDeliverer({ store: h.store, pollMs: 20, timeoutMs: 600_000 });
      w.start();
      await h.json("POST", `${HOOKS}/${hook.id}/test`);
      await waitFor(
        () => arrived === 1,
        10_000,
        () => "the request never reached the receiver",
      );
      await w.stop();
      const [d] = (await h.json("GET", `${HOOKS}/${hook.id}/deliveries`)).body.deliveries;
      expect(d).toMatchObject({ state: "pending", attempts: 1, last_status: null, last_error: null });
    });

    test("a receiver that is not listening: the error names the failure", async () => {
      const h = await makeHarness();
      const hook = (await h.json("POST", HOOKS, { body: { url: "http://127.0.0.1:9/nobody", event_types: ["*"], secret: SECRET } })).body;
      deliverer(h);
      await h.json("POST", `${HOOKS}/${hook.id}/test`);
      const dead = await waitFor(
        async () => (await h.json("GET", `${HOOKS}/${hook.id}/deliveries?state=dead`)).body.deliveries[0],
        10_000,
        () => "no dead delivery",
      );
      expect(dead.last_status).toBeNull();
      expect(dead.last_error).toBeString();
      expect(dead.last_error.length).toBeGreaterThan(0);
    });
  });
});
