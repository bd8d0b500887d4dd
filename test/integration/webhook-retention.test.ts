/**
 * The delivery worker's retention pass: finished deliveries past the window go, batch after batch until none
 * is due (a backlog bigger than one batch included), and what is still due for delivery stays.
 */
import { afterEach, expect, test } from "bun:test";
import { WEBHOOK_PRUNE_BATCH, WebhookDeliverer } from "../../src/events";
import { openStore, type Store } from "../../src/store";

const DAY_MS = 86_400_000;
const T0 = new Date("2026-01-01T00:00:00Z");
let store: Store;
afterEach(async () => store.close());

test("prune() deletes a backlog of delivered rows past retention in batches, and leaves pending ones", async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
  const w = await store.createWebhook("default", { url: "http://127.0.0.1:9/hook", event_types: ["*"], secret: "0123456789abcdef" }, T0);
  const backlog = WEBHOOK_PRUNE_BATCH * 2 + 5;
  const events = Array.from({ length: backlog }, (_, n) => ({ type: "webhook.ping", n }));
  expect(await store.enqueueWebhookEvents(events, T0)).toBe(backlog);
  for (const d of await store.claimWebhookDeliveries(T0, backlog, 60_000))
    await store.finishWebhookDelivery(d.id, d.attempts, { kind: "delivered", status: 200 }, T0);
  const pending = (await store.enqueueWebhookDelivery("default", w.id, { type: "webhook.ping" }, T0))!;

  const worker = new WebhookDeliverer({ store, retentionMs: 7 * DAY_MS, now: () => new Date(T0.getTime() + 8 * DAY_MS) });
  expect(await worker.prune()).toBe(backlog);
  expect((await store.listWebhookDeliveries("default", w.id)).items.map((d) => [d.id, d.state])).toEqual([[pending, "pending"]]);
  expect(await worker.prune()).toBe(0);
});
