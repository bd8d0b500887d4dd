/**
 * WebhookStore: webhook subscriptions (team-first, for the API) and their delivery outbox (system-wide, for
 * the delivery worker). Task transitions, reaps and run state changes write their outbox rows themselves,
 * in the transaction of the change, whenever an enabled webhook of the row's team wants the event: the
 * store keeps the set of wanted event types in memory (refreshWebhookInterest) so that with no webhook the
 * hot path pays one Set lookup.
 */
import type {
  ClaimedWebhookDelivery,
  ListOptions,
  Page,
  WebhookAttemptOutcome,
  WebhookDeliveryRecord,
  WebhookDeliveryState,
  WebhookInput,
  WebhookPatch,
  WebhookPruneCutoffs,
  WebhookRecord,
} from "../../domain";

export interface WebhookStore {
  /** `input.secret` is stored as given (the secrets decorator seals it). */
  createWebhook(team: string, input: WebhookInput, now: Date): Promise<WebhookRecord>;
  /** Null when the team has no such webhook. */
  updateWebhook(team: string, id: number, patch: WebhookPatch, now: Date): Promise<WebhookRecord | null>;
  /** Deletes the webhook and its deliveries; false when the team has no such webhook. */
  deleteWebhook(team: string, id: number): Promise<boolean>;
  getWebhook(team: string, id: number): Promise<WebhookRecord | null>;
  listWebhooks(team: string): Promise<WebhookRecord[]>;
  /** Newest first. */
  listWebhookDeliveries(
    team: string,
    webhookId: number,
    opts?: ListOptions & { state?: WebhookDeliveryState },
  ): Promise<Page<WebhookDeliveryRecord>>;
  /** A dead (or delivered) delivery back to pending, due now, attempts reset; null when not found or pending. */
  redeliverWebhookDelivery(team: string, id: number, now: Date): Promise<WebhookDeliveryRecord | null>;
  /** Queues one event for one webhook of the team (the API's test ping); null when not found. */
  enqueueWebhookDelivery(team: string, webhookId: number, event: Record<string, unknown>, now: Date): Promise<number | null>;
  /**
   * Queues events raised outside a store write (dead letters, leader changes, import errors) for every
   * enabled webhook that wants them: of the event's `team`, or of every team when it has none (leader
   * changes). Returns how many deliveries were queued.
   */
  enqueueWebhookEvents(events: Record<string, unknown>[], now: Date): Promise<number>;
  /**
   * Claims up to `limit` due pending deliveries of enabled webhooks until `now + leaseMs` and counts the
   * attempt: a row claimed by one worker (replica) is not claimed by another until its lease expires, e.g.
   * after a crash. A disabled webhook's pending deliveries wait until it is enabled again.
   */
  claimWebhookDeliveries(now: Date, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]>;
  /** Records how the claimed attempt ended; false when the claim was lost (another attempt owns the row). */
  finishWebhookDelivery(id: number, attempt: number, outcome: WebhookAttemptOutcome, now: Date): Promise<boolean>;
  /**
   * Retention: deletes at most `limit` finished deliveries, oldest first: delivered rows created before
   * `cutoffs.delivered`, dead rows created before `cutoffs.dead` (pending rows never). One short statement
   * per call, so the caller deletes a backlog batch by batch without holding locks on the table for long.
   * Returns how many rows it deleted (fewer than `limit`: nothing more is due).
   */
  pruneWebhookDeliveries(cutoffs: WebhookPruneCutoffs, limit: number): Promise<number>;
  /** Re-reads which event types enabled webhooks want (after another replica changed them). */
  refreshWebhookInterest(): Promise<void>;
}
