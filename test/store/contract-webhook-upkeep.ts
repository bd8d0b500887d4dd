/**
 * Store contract for the upkeep of webhooks: secrets rotation re-seals their signing secrets (a delivery after
 * rotation is signed with the very same secret), and retention prunes finished deliveries batch by batch:
 * delivered rows after the window, dead rows after 4 windows, pending rows never.
 */
import { describe, expect, test } from "bun:test";
import { ConflictError, webhookPruneCutoffs, type WebhookAttemptOutcome, type WebhookInput } from "../../src/domain";
import { SecretUnreadableError, SecretsCipher, rotateSecrets, sealedKeyId, withSecrets, type Store } from "../../src/store";
import { signWebhook } from "../../src/events";
import { T0 } from "./contract-fixtures";

const DAY_S = 86_400;
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const hook = (secret: string): WebhookInput => ({ url: "http://127.0.0.1:9/hook", event_types: ["*"], secret });
const SECRET_A = "secret-of-default-0123";
const SECRET_B = "secret-of-blue-456789";

export function webhookUpkeepContract(getStore: () => Store): void {
  describe("webhook upkeep", () => {
    const k1 = new SecretsCipher(Buffer.alloc(32, 1));
    const k2 = new SecretsCipher(Buffer.alloc(32, 2));

    test("rotation re-seals every team's webhook secrets; deliveries still sign with the same secret", async () => {
      const raw = getStore();
      await raw.ensureTeam("blue", T0);
      const before = withSecrets(raw, k1);
      const a = await before.createWebhook("default", hook(SECRET_A), T0);
      const b = await before.createWebhook("blue", hook(SECRET_B), T0);

      expect(await rotateSecrets(raw, { old: k1, next: k2 })).toEqual({
        variables: 0,
        connections: 0,
        webhooks: 2,
        already: 0,
        sealed_plaintext: 0,
      });
      expect((await raw.listAllWebhookSecrets({ limit: 10, offset: 0 })).map((w) => sealedKeyId(w.secret))).toEqual([k2.keyId, k2.keyId]);

      const after = withSecrets(raw, k2);
      await after.enqueueWebhookDelivery("default", a.id, { type: "webhook.ping" }, at(1));
      await after.enqueueWebhookDelivery("blue", b.id, { type: "webhook.ping" }, at(1));
      const claimed = await after.claimWebhookDeliveries(at(2), 10, 30_000);
      expect(claimed.map((d) => [d.webhook_id, d.secret, d.secret_error])).toEqual([
        [a.id, SECRET_A, undefined],
        [b.id, SECRET_B, undefined],
      ]);
      // What the receiver checks: the signature made with the rotated secret is the one made with the original.
      expect(signWebhook(claimed[0]!.secret, "1767225600", "{}")).toBe(signWebhook(SECRET_A, "1767225600", "{}"));
      // The old key no longer opens them; a second rotation changes nothing.
      expect((await before.claimWebhookDeliveries(at(40), 10, 30_000)).map((d) => d.secret_error !== undefined)).toEqual([true, true]);
      expect(await rotateSecrets(raw, { old: k1, next: k2 })).toMatchObject({ webhooks: 0, already: 2 });
    });

    test("a webhook secret under a third key refuses the whole rotation; a secret changed meanwhile rolls it back", async () => {
      const raw = getStore();
      await withSecrets(raw, k1).putVariable("default", { key: "a_token", value: "a", description: null }, T0);
      const k3 = new SecretsCipher(Buffer.alloc(32, 3));
      const w = await withSecrets(raw, k3).createWebhook("default", hook(SECRET_A), T0);
      await expect(rotateSecrets(raw, { old: k1, next: k2 })).rejects.toThrow(
        `cannot re-encrypt the secret of webhook ${w.id}: it was written under key id ${k3.keyId}`,
      );
      await expect(rotateSecrets(raw, { old: k1, next: k2 })).rejects.toBeInstanceOf(SecretUnreadableError);
      expect(sealedKeyId((await raw.getVariable("default", "a_token"))!.value)).toBe(k1.keyId);

      await withSecrets(raw, k1).updateWebhook("default", w.id, { secret: SECRET_B }, at(1));
      const stored = (await raw.listAllWebhookSecrets({ limit: 10, offset: 0 }))[0]!.secret;
      await expect(
        raw.rewriteSecrets([
          { team: "default", webhook_id: w.id, from: stored, to: k2.encrypt(SECRET_B, "webhook/secret") },
          { team: "default", webhook_id: w.id, from: "not what it holds", to: "x" },
        ]),
      ).rejects.toBeInstanceOf(ConflictError);
      expect((await raw.listAllWebhookSecrets({ limit: 10, offset: 0 }))[0]!.secret).toBe(stored);
    });

    test("retention deletes delivered rows after the window and dead rows after 4 windows, in batches; pending stay", async () => {
      const store = getStore();
      const w = await store.createWebhook("default", hook(SECRET_A), T0);
      // One delivery created at `day` and finished as `outcome` (or left pending).
      const row = async (day: number, outcome: WebhookAttemptOutcome | null) => {
        const id = (await store.enqueueWebhookDelivery("default", w.id, { type: "webhook.ping", day }, at(day * DAY_S)))!;
        if (!outcome) return id;
        const [claimed] = await store.claimWebhookDeliveries(at(day * DAY_S + 1), 1, 30_000);
        expect(await store.finishWebhookDelivery(claimed!.id, claimed!.attempts, outcome, at(day * DAY_S + 2))).toBe(true);
        return id;
      };
      const ok: WebhookAttemptOutcome = { kind: "delivered", status: 200 };
      const dead: WebhookAttemptOutcome = { kind: "dead", status: 500, error: "HTTP 500" };
      const oldDelivered = await row(0, ok);
      const oldDead = await row(0, dead);
      const redelivered = await row(0, dead);
      const recentDelivered = await row(2, ok);
      await store.redeliverWebhookDelivery("default", redelivered, at(3 * DAY_S));
      const left = async () => (await store.listWebhookDeliveries("default", w.id)).items.map((d) => d.id).reverse();
      expect(await left()).toEqual([oldDelivered, oldDead, redelivered, recentDelivered]);
      const week = 7 * DAY_S * 1000;

      // Day 8: the day-0 delivered row is past the window; dead rows are kept 4 windows; pending rows always.
      expect(await store.pruneWebhookDeliveries(webhookPruneCutoffs(at(8 * DAY_S), week), 1000)).toBe(1);
      expect(await left()).toEqual([oldDead, redelivered, recentDelivered]);
      // Day 30: the dead row (day 0) and the day-2 delivered row go, one per batch of 1.
      const cutoffs = webhookPruneCutoffs(at(30 * DAY_S), week);
      expect(await store.pruneWebhookDeliveries(cutoffs, 1)).toBe(1);
      expect(await left()).toEqual([redelivered, recentDelivered]);
      expect(await store.pruneWebhookDeliveries(cutoffs, 1)).toBe(1);
      expect(await store.pruneWebhookDeliveries(cutoffs, 1)).toBe(0);
      expect(await left()).toEqual([redelivered]);
    });
  });
}
