/**
 * Webhooks (Leoflow's own, /api/v2/leoflow/webhooks): the request team's subscriptions and their deliveries.
 * The secret is write-only (never in a response); a dead delivery is listed with its last error and can be
 * sent again. What is delivered and how a receiver verifies it: docs/webhooks.md.
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  NotFoundError,
  WEBHOOK_DELIVERY_STATES,
  lazySchema,
  validateWebhookInput,
  type WebhookDeliveryRecord,
  type WebhookRecord,
} from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { pagingQuery, parseBody, parsePathParam, parseQuery } from "./validate";
import { teamOf } from "./team";

const fields = {
  url: z.string(),
  event_types: z.array(z.string()),
  dag_ids: z.array(z.string()).nullable().optional(),
  secret: z.string(),
  enabled: z.boolean().optional(),
  description: z.string().max(1000).nullable().optional(),
};
export const WebhookBody = lazySchema(() => z.object(fields).strict());
export const WebhookPatchBody = lazySchema(() => z.object(fields).partial().strict());
export const DeliveriesQuery = lazySchema(() => z.object({ ...pagingQuery, state: z.enum(WEBHOOK_DELIVERY_STATES).optional() }));
const Id = lazySchema(() => z.coerce.number().int().positive());

export function serializeWebhook(w: WebhookRecord) {
  return {
    id: w.id,
    url: w.url,
    event_types: w.event_types,
    dag_ids: w.dag_ids,
    enabled: w.enabled,
    description: w.description,
    created_at: w.created_at.toISOString(),
    updated_at: w.updated_at.toISOString(),
  };
}

export function serializeDelivery(d: WebhookDeliveryRecord) {
  return {
    id: d.id,
    webhook_id: d.webhook_id,
    event_type: d.event_type,
    event: d.event,
    state: d.state,
    attempts: d.attempts,
    next_attempt_at: d.state === "pending" ? d.next_attempt_at.toISOString() : null,
    last_status: d.last_status,
    last_error: d.last_error,
    created_at: d.created_at.toISOString(),
    delivered_at: d.delivered_at?.toISOString() ?? null,
  };
}

const notFound = (id: number) => new NotFoundError(`webhook ${id} was not found in this team; list them with GET /api/v2/leoflow/webhooks`);

export function webhookRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const idOf = (raw: string) => parsePathParam("id", raw, Id);
  const by = (c: { get(k: "user"): { username: string } | null }) => c.get("user")?.username ?? null;

  app.get("/leoflow/webhooks", async (c) => {
    const hooks = await store.listWebhooks(teamOf(c));
    return c.json({ webhooks: hooks.map(serializeWebhook), total_entries: hooks.length });
  });

  app.post("/leoflow/webhooks", async (c) => {
    const body = await parseBody(c, WebhookBody);
    validateWebhookInput(body, true);
    const w = await store.createWebhook(teamOf(c), body, deps.now());
    deps.webhooks?.changed?.();
    deps.logger.info("webhook created", { webhook: w.id, url: w.url, by: by(c) });
    return c.json(serializeWebhook(w), 201);
  });

  app.get("/leoflow/webhooks/:id", async (c) => {
    const id = idOf(c.req.param("id"));
    const w = await store.getWebhook(teamOf(c), id);
    if (!w) throw notFound(id);
    return c.json(serializeWebhook(w));
  });

  app.patch("/leoflow/webhooks/:id", async (c) => {
    const id = idOf(c.req.param("id"));
    const body = await parseBody(c, WebhookPatchBody);
    validateWebhookInput(body, false);
    const w = await store.updateWebhook(teamOf(c), id, body, deps.now());
    if (!w) throw notFound(id);
    deps.webhooks?.changed?.();
    deps.logger.info("webhook updated", { webhook: id, fields: Object.keys(body), by: by(c) });
    return c.json(serializeWebhook(w));
  });

  app.delete("/leoflow/webhooks/:id", async (c) => {
    const id = idOf(c.req.param("id"));
    if (!(await store.deleteWebhook(teamOf(c), id))) throw notFound(id);
    deps.webhooks?.changed?.();
    deps.logger.info("webhook deleted", { webhook: id, by: by(c) });
    return c.body(null, 204);
  });

  /** Queues a `webhook.ping` for this webhook only; its delivery shows in the list like any other. */
  app.post("/leoflow/webhooks/:id/test", async (c) => {
    const id = idOf(c.req.param("id"));
    const now = deps.now();
    const team = teamOf(c);
    const deliveryId = await store.enqueueWebhookDelivery(
      team,
      id,
      { type: "webhook.ping", team, webhook_id: id, time: now.toISOString() },
      now,
    );
    if (deliveryId === null) throw notFound(id);
    deps.webhooks?.poke();
    return c.json({ delivery_id: deliveryId }, 202);
  });

  app.get("/leoflow/webhooks/:id/deliveries", async (c) => {
    const id = idOf(c.req.param("id"));
    const q = parseQuery(c, DeliveriesQuery);
    const team = teamOf(c);
    if (!(await store.getWebhook(team, id))) throw notFound(id);
    const page = await store.listWebhookDeliveries(team, id, { limit: q.limit, offset: q.offset, state: q.state });
    return c.json({ deliveries: page.items.map(serializeDelivery), total_entries: page.total });
  });

  app.post("/leoflow/webhooks/deliveries/:id/redeliver", async (c) => {
    const id = idOf(c.req.param("id"));
    const d = await store.redeliverWebhookDelivery(teamOf(c), id, deps.now());
    if (!d)
      throw new NotFoundError(
        `delivery ${id} was not found in this team, or is still pending (only a dead or delivered delivery can be sent again)`,
      );
    deps.webhooks?.poke();
    deps.logger.info("webhook delivery re-queued", { delivery: id, by: by(c) });
    return c.json(serializeDelivery(d), 202);
  });

  return app;
}
