/**
 * Webhooks: a team's subscriptions to lifecycle events and the outbox rows that deliver them. Pure: the
 * records, the accepted event types, input validation and the retry policy (docs/webhooks.md).
 */
import { ValidationError } from "./errors";

/** Event types a webhook may subscribe to; `*` is every one of them. */
export const WEBHOOK_EVENT_TYPES = [
  "dag_run.started",
  "dag_run.finished",
  "dag_run.state_changed",
  "task_instance.state_changed",
  "task_instance.dead_lettered",
  "scheduler.leader_changed",
  "dag.import_error",
  "dag_run.deadline_missed",
  "callback.failed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export const ANY_WEBHOOK_EVENT = "*";

/** A webhook as everyone above the store sees it: the secret is write-only, so only its presence shows. */
export interface WebhookRecord {
  id: number;
  team: string;
  url: string;
  /** Subscribed types, or ["*"]. */
  event_types: string[];
  /** DAGs whose events are sent; null: every DAG (and events of no DAG, such as leader changes). */
  dag_ids: string[] | null;
  enabled: boolean;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A webhook's signing secret as stored (sealed), as secrets rotation reads it across every team. */
export interface StoredWebhookSecret {
  team: string;
  id: number;
  secret: string;
}

/** What creating a webhook takes; `secret` is the HMAC key the receiver verifies signatures with. */
export interface WebhookInput {
  url: string;
  event_types: string[];
  dag_ids?: string[] | null;
  secret: string;
  enabled?: boolean;
  description?: string | null;
}
export type WebhookPatch = Partial<WebhookInput>;

export type WebhookDeliveryState = "pending" | "delivered" | "dead";
export const WEBHOOK_DELIVERY_STATES: readonly WebhookDeliveryState[] = ["pending", "delivered", "dead"];

export interface WebhookDeliveryRecord {
  id: number;
  webhook_id: number;
  team: string;
  event_type: string;
  event: Record<string, unknown>;
  state: WebhookDeliveryState;
  /** Attempts made so far (a claimed row counts its attempt in flight). */
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** A due delivery claimed by one worker until `claimed_until`, with what it needs to send it. */
export interface ClaimedWebhookDelivery extends WebhookDeliveryRecord {
  url: string;
  /** As stored: sealed by the secrets cipher until the secrets decorator opens it. */
  secret: string;
  /** Set by the secrets decorator when the secret cannot be opened (another key): the attempt fails with it. */
  secret_error?: string;
}

/** How one attempt ended. */
export type WebhookAttemptOutcome =
  | { kind: "delivered"; status: number }
  | { kind: "retry"; at: Date; status: number | null; error: string }
  | { kind: "dead"; status: number | null; error: string };

export interface WebhookRetryPolicy {
  /** Attempts before a delivery is dead (default 3). */
  maxAttempts: number;
  /** Wait after the first failure; doubles after each one (default 5 s). */
  baseDelayMs: number;
}
export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = { maxAttempts: 3, baseDelayMs: 5000 };

/** Finished deliveries created before these times are deleted (WebhookStore.pruneWebhookDeliveries). */
export interface WebhookPruneCutoffs {
  delivered: Date;
  dead: Date;
}
/** Dead deliveries are kept this many times the retention window: long enough to notice and redeliver them. */
export const DEAD_WEBHOOK_RETENTION_FACTOR = 4;
/** The default retention window of delivered rows (`--webhook-retention`): 7 days. */
export const DEFAULT_WEBHOOK_RETENTION_S = 7 * 24 * 3600;

/** The prune cutoffs `retentionMs` gives at `now`. */
export function webhookPruneCutoffs(now: Date, retentionMs: number): WebhookPruneCutoffs {
  return {
    delivered: new Date(now.getTime() - retentionMs),
    dead: new Date(now.getTime() - DEAD_WEBHOOK_RETENTION_FACTOR * retentionMs),
  };
}

/** What a failed attempt number `attempt` (1-based) leads to: another try after 5 s × 2^(attempt-1), or dead. */
export function afterFailedAttempt(
  attempt: number,
  failure: { status: number | null; error: string },
  now: Date,
  policy: WebhookRetryPolicy = DEFAULT_WEBHOOK_RETRY,
): WebhookAttemptOutcome {
  if (attempt >= policy.maxAttempts) return { kind: "dead", ...failure };
  return { kind: "retry", at: new Date(now.getTime() + policy.baseDelayMs * 2 ** (attempt - 1)), ...failure };
}

/** True when a webhook subscribed to `type` (directly or with `*`) receives events of `dagId`. */
export function webhookWants(w: Pick<WebhookRecord, "event_types" | "dag_ids" | "enabled">, type: string, dagId: string | null): boolean {
  if (!w.enabled) return false;
  if (!w.event_types.includes(ANY_WEBHOOK_EVENT) && !w.event_types.includes(type)) return false;
  return w.dag_ids === null || (dagId !== null && w.dag_ids.includes(dagId));
}

const MAX_SECRET = 512;
const MIN_SECRET = 16;

/** Checks a create (every field) or a patch (the fields given); throws a ValidationError naming the field. */
export function validateWebhookInput(input: WebhookPatch, creating: boolean): void {
  if (creating || input.url !== undefined) webhookUrlProblem(input.url);
  if (creating || input.event_types !== undefined) eventTypesProblem(input.event_types);
  if (input.dag_ids != null && (!Array.isArray(input.dag_ids) || input.dag_ids.some((d) => typeof d !== "string" || d === "")))
    throw new ValidationError("dag_ids must be a list of DAG ids (or null for every DAG)");
  if (creating || input.secret !== undefined) {
    const s = input.secret;
    if (typeof s !== "string" || s.length < MIN_SECRET || s.length > MAX_SECRET)
      throw new ValidationError(
        `secret must be a string of ${MIN_SECRET} to ${MAX_SECRET} characters (e.g. the output of \`openssl rand -hex 32\`)`,
      );
  }
  if (input.enabled !== undefined && typeof input.enabled !== "boolean") throw new ValidationError("enabled must be true or false");
}

function webhookUrlProblem(url: unknown): void {
  let parsed: URL | null = null;
  try {
    parsed = typeof url === "string" ? new URL(url) : null;
  } catch {}
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:"))
    throw new ValidationError(`url ${JSON.stringify(url ?? null)} is not an http(s) URL; use e.g. https://hooks.example.com/leoflow`);
  if (parsed.username || parsed.password)
    throw new ValidationError("url must not carry credentials; the receiver authenticates requests by their X-Leoflow-Signature");
}

function eventTypesProblem(types: unknown): void {
  const valid = `valid types: ${[ANY_WEBHOOK_EVENT, ...WEBHOOK_EVENT_TYPES].join(", ")}`;
  if (!Array.isArray(types) || types.length === 0) throw new ValidationError(`event_types must be a non-empty list; ${valid}`);
  const unknown = types.filter((t) => t !== ANY_WEBHOOK_EVENT && !(WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(t));
  if (unknown.length) throw new ValidationError(`unknown event type ${unknown.map((t) => JSON.stringify(t)).join(", ")}; ${valid}`);
}
