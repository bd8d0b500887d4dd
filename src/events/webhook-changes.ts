/**
 * Pro: a webhook created, changed or deleted through one replica applies to every replica's outbox writes at
 * once. Each store keeps in memory which event types enabled webhooks want (store/webhook-interest.ts); the
 * replica that wrote the change knows already, and tells the others over the wake bus's NOTIFY channel,
 * which re-read the set. The delivery worker's periodic re-read (WEBHOOK_INTEREST_REFRESH_MS) stays as the
 * backstop for a notification lost while a listener reconnected.
 *
 * @example
 * const relay = webhookChangeRelay(wakeBus, store, (e) => log.warn("re-reading webhooks failed", { error: e }));
 * relay.changed(); // after the API created a webhook
 */
import type { WebhookStore } from "../store";
import type { WakeBus } from "./wake-bus";

export interface WebhookChangeRelay {
  /** Tells the other replicas; never throws, never waits. */
  changed(): void;
}

export function webhookChangeRelay(
  bus: Pick<WakeBus, "webhooksChanged" | "onWebhooksChanged">,
  store: Pick<WebhookStore, "refreshWebhookInterest">,
  onError: (e: unknown) => void,
): WebhookChangeRelay {
  bus.onWebhooksChanged(() => void store.refreshWebhookInterest().catch(onError));
  return { changed: () => bus.webhooksChanged() };
}
