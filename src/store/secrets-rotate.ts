/**
 * Secrets rotation: re-seal every stored secret of every team (variables, connections, webhook signing
 * secrets) under a new key (the key is one per install),
 * in one transaction, through the Store door.
 * `planRotation` decides row by row from the stored text alone (pure but for the cipher's random nonces):
 * already under the new key → skipped (so a second run changes nothing); under the old key → re-sealed;
 * a secret still in plain text (written before encryption existed) → sealed; under any other key → the
 * whole rotation is refused before anything is written, which is also how a wrong old key is caught.
 *
 * @example
 * const result = await rotateSecrets(openStore(url), { old: oldCipher, next: newCipher });
 * // { variables: 3, connections: 2, webhooks: 1, already: 0, sealed_plaintext: 1 }
 */
import { isSensitiveName } from "../domain";
import { SecretUnreadableError, sealedKeyId, type SecretsCipher } from "./secrets-cipher";
import { connectionAad, ofTeam, variableAad } from "./secrets";
import { webhookAad } from "./webhook-secrets";
import type { ConnectionRecord, SecretRewrite, StoredWebhookSecret, TeamOwned, VariableRecord } from "../domain";
import type { SecretsStore, Slice } from "./ports/secrets";

export interface RotationKeys {
  /** The key the secrets were written with; null when none is known (only plain text can then be sealed). */
  old: SecretsCipher | null;
  next: SecretsCipher;
}

export interface RotationResult {
  /** Rows changed, per table. */
  variables: number;
  connections: number;
  webhooks: number;
  /** Sealed values already under the new key, left alone. */
  already: number;
  /** Values that were plain text and are now sealed. */
  sealed_plaintext: number;
}

export interface RotationPlan extends RotationResult {
  rewrites: SecretRewrite[];
}

/** Every team's variables, connections and webhook secrets as stored (through a store without withSecrets). */
export interface StoredSecrets {
  variables: TeamOwned<VariableRecord>[];
  connections: TeamOwned<ConnectionRecord>[];
  webhooks: StoredWebhookSecret[];
}

/** Decides what to rewrite; throws SecretUnreadableError (nothing to write) when a value cannot be re-sealed. */
export function planRotation(rows: StoredSecrets, keys: RotationKeys): RotationPlan {
  const plan: RotationPlan = { rewrites: [], variables: 0, connections: 0, webhooks: 0, already: 0, sealed_plaintext: 0 };
  // One value: its new stored text, or the same text when it stays as it is.
  const reseal = (text: string, sealed: boolean, aad: string, what: string, secret: boolean): string => {
    if (!sealed) {
      if (!secret) return text;
      plan.sealed_plaintext++;
      return keys.next.encrypt(text, aad);
    }
    const keyId = sealedKeyId(text) ?? "(none: the value is not an envelope)";
    if (keyId === keys.next.keyId) {
      plan.already++;
      return text;
    }
    if (!keys.old || keyId !== keys.old.keyId) throw foreignKey(what, keyId, keys);
    return keys.next.encrypt(keys.old.decrypt(text, aad, what), aad);
  };
  for (const v of rows.variables) {
    const what = `variable ${v.key}${ofTeam(v.team)}`;
    const to = reseal(v.value, v.is_encrypted === true, variableAad(v.team, v.key), what, isSensitiveName(v.key));
    if (to === v.value) continue;
    plan.rewrites.push({ team: v.team, variable: v.key, from: v.value, to });
    plan.variables++;
  }
  for (const c of rows.connections) {
    const field = (f: "password" | "extra") => {
      const text = c[f];
      const sealed = (f === "password" ? c.is_encrypted : c.is_extra_encrypted) === true;
      const what = `connection ${c.connection_id}${ofTeam(c.team)} (${f})`;
      return text == null ? null : reseal(text, sealed, connectionAad(c.team, c.connection_id, f), what, true);
    };
    const to = { password: field("password"), extra: field("extra") };
    if (to.password === c.password && to.extra === c.extra) continue;
    plan.rewrites.push({ team: c.team, connection_id: c.connection_id, from: { password: c.password, extra: c.extra }, to });
    plan.connections++;
  }
  for (const w of rows.webhooks) {
    // Always written sealed (webhook-secrets.ts), so there is no flag: a text that is no envelope is plain.
    const to = reseal(w.secret, sealedKeyId(w.secret) !== null, webhookAad(w.team), `the secret of webhook ${w.id}${ofTeam(w.team)}`, true);
    if (to === w.secret) continue;
    plan.rewrites.push({ team: w.team, webhook_id: w.id, from: w.secret, to });
    plan.webhooks++;
  }
  return plan;
}

function foreignKey(what: string, keyId: string, keys: RotationKeys): SecretUnreadableError {
  const old = keys.old ? `the old key (id ${keys.old.keyId})` : "an old key (none was given)";
  return new SecretUnreadableError(
    `cannot re-encrypt ${what}: it was written under key id ${keyId}, which is neither ${old} nor the new key (id ${keys.next.keyId}); ` +
      "nothing was changed. Pass the key it was written with as the old key",
    "other_key",
  );
}

const PAGE = 500;

/** Reads every team's variables, connections and webhook secrets as stored, slice by slice. */
export async function readStoredSecrets(
  store: Pick<SecretsStore, "listAllVariables" | "listAllConnections" | "listAllWebhookSecrets">,
): Promise<StoredSecrets> {
  const all = async <T>(list: (slice: Slice) => Promise<T[]>): Promise<T[]> => {
    const out: T[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const items = await list({ limit: PAGE, offset });
      out.push(...items);
      if (items.length < PAGE) return out;
    }
  };
  return {
    variables: await all((s) => store.listAllVariables(s)),
    connections: await all((s) => store.listAllConnections(s)),
    webhooks: await all((s) => store.listAllWebhookSecrets(s)),
  };
}

/** Re-seals every secret of `store` (a store WITHOUT withSecrets) under keys.next, in one transaction. */
export async function rotateSecrets(store: SecretsStore, keys: RotationKeys): Promise<RotationResult> {
  const { rewrites, ...result } = planRotation(await readStoredSecrets(store), keys);
  if (rewrites.length) await store.rewriteSecrets(rewrites);
  return result;
}

/**
 * Stored secrets this cipher cannot open, by the key id they were written under (for a warning at start:
 * a replica started with the wrong key says so before anyone reads a connection).
 */
export function foreignKeyIds(rows: StoredSecrets, cipher: SecretsCipher): Map<string, number> {
  const counts = new Map<string, number>();
  const sealed = [
    ...rows.variables.filter((v) => v.is_encrypted).map((v) => v.value),
    ...rows.connections.flatMap((c) => [c.is_encrypted ? c.password : null, c.is_extra_encrypted ? c.extra : null]),
    ...rows.webhooks.map((w) => w.secret),
  ];
  for (const t of sealed) {
    const id = t == null ? null : sealedKeyId(t);
    if (id && id !== cipher.keyId) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
