/** Webhooks (Leoflow's own): subscriptions and their deliveries (src/api/webhooks.ts, docs/webhooks.md). */
import { z } from "zod";
import * as webhookRoutes from "../webhooks";
import { describeRoute, requestSchema } from "../openapi-registry";
import { DateTime, ErrorResponse, collection, int, nstr } from "./common";

export const WebhookResponse = z.looseObject({
  id: int,
  url: z.string(),
  event_types: z.array(z.string()),
  dag_ids: z.array(z.string()).nullable(),
  enabled: z.boolean(),
  description: nstr,
  created_at: DateTime,
  updated_at: DateTime,
});
export const WebhookDeliveryResponse = z.looseObject({
  id: int,
  webhook_id: int,
  event_type: z.string(),
  event: z.record(z.string(), z.unknown()),
  state: z.enum(["pending", "delivered", "dead"]),
  attempts: int,
  next_attempt_at: DateTime.nullable(),
  last_status: int.nullable(),
  last_error: nstr,
  created_at: DateTime,
  delivered_at: DateTime.nullable(),
});

const HOOKS = "/api/v2/leoflow/webhooks";
const id = { id: z.string() };
const tag = "Leoflow";
describeRoute({
  method: "GET",
  path: HOOKS,
  summary: "Leoflow: list the team's webhooks",
  tag,
  responses: { 200: collection("webhooks", WebhookResponse) },
});
describeRoute({
  method: "POST",
  path: HOOKS,
  summary: "Leoflow: create a webhook (the secret is write-only)",
  tag,
  body: requestSchema(webhookRoutes, "WebhookBody"),
  responses: { 201: WebhookResponse },
});
describeRoute({
  method: "GET",
  path: `${HOOKS}/:id`,
  summary: "Leoflow: get a webhook",
  tag,
  params: id,
  responses: { 200: WebhookResponse, 404: ErrorResponse },
});
describeRoute({
  method: "PATCH",
  path: `${HOOKS}/:id`,
  summary: "Leoflow: change a webhook",
  tag,
  params: id,
  body: requestSchema(webhookRoutes, "WebhookPatchBody"),
  responses: { 200: WebhookResponse, 404: ErrorResponse },
});
describeRoute({
  method: "DELETE",
  path: `${HOOKS}/:id`,
  summary: "Leoflow: delete a webhook and its deliveries",
  tag,
  params: id,
  responses: { 204: null, 404: ErrorResponse },
});
describeRoute({
  method: "POST",
  path: `${HOOKS}/:id/test`,
  summary: "Leoflow: send a webhook.ping to this webhook",
  tag,
  params: id,
  responses: { 202: z.looseObject({ delivery_id: int }), 404: ErrorResponse },
});
describeRoute({
  method: "GET",
  path: `${HOOKS}/:id/deliveries`,
  summary: "Leoflow: list a webhook's deliveries, newest first (state=dead: the dead-lettered ones)",
  tag,
  params: id,
  query: requestSchema(webhookRoutes, "DeliveriesQuery"),
  responses: { 200: collection("deliveries", WebhookDeliveryResponse), 404: ErrorResponse },
});
describeRoute({
  method: "POST",
  path: `${HOOKS}/deliveries/:id/redeliver`,
  summary: "Leoflow: send a dead (or delivered) delivery again",
  tag,
  params: id,
  responses: { 202: WebhookDeliveryResponse, 404: ErrorResponse },
});
