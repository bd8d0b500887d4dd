/**
 * Webhook signing secrets at rest: sealed with the secrets cipher on the way into the store, like connection
 * passwords (secrets.ts), and opened only for the delivery worker, which signs with them. The API never reads
 * a secret back: records carry none. The associated data binds a sealed secret to its team, so a value copied
 * into another team's row does not open there.
 */
import { DEFAULT_TEAM } from "../domain";
import type { SecretsCipher } from "./secrets-cipher";
import type { Store } from "./store";

/** What a sealed webhook secret is bound to (also read by secrets rotation). */
export const webhookAad = (team: string) => `${team === DEFAULT_TEAM ? "" : `team/${team}/`}webhook/secret`;

export function webhookSecretOverrides(store: Store, cipher: SecretsCipher): Partial<Store> {
  return {
    async createWebhook(team, input, now) {
      return store.createWebhook(team, { ...input, secret: cipher.encrypt(input.secret, webhookAad(team)) }, now);
    },
    async updateWebhook(team, id, patch, now) {
      const secret = patch.secret === undefined ? undefined : cipher.encrypt(patch.secret, webhookAad(team));
      return store.updateWebhook(team, id, secret === undefined ? patch : { ...patch, secret }, now);
    },
    async claimWebhookDeliveries(now, limit, leaseMs) {
      // A secret that does not open (the key changed) fails that delivery's attempt, not the whole claim.
      return (await store.claimWebhookDeliveries(now, limit, leaseMs)).map((d) => {
        try {
          return { ...d, secret: cipher.decrypt(d.secret, webhookAad(d.team), `the secret of webhook ${d.webhook_id}`) };
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          return {
            ...d,
            secret: "",
            secret_error: `${why}; set the webhook's secret again (PATCH /api/v2/leoflow/webhooks/${d.webhook_id})`,
          };
        }
      });
    },
  };
}
