/**
 * One signing secret per Pro deployment. Every replica must verify the tokens any other signed (user JWTs, and the
 * agent tokens of tasks that report to whichever replica the load balancer picks), so a replica started with another
 * --jwt-secret joined silently and then refused those tokens. The database now holds the deployment's fingerprint of
 * its secret (an HMAC of a fixed label keyed with the secret: it proves nothing about the secret to a reader of the
 * database), recorded by the first replica; a replica whose --jwt-secret or one of whose --jwt-previous-secrets
 * matches it starts, any other is refused at start naming the fix. A rotation (new secret, old one previous) starts,
 * and the fingerprint moves to the new secret once a replica running it leads. `checkSigningFingerprint` is pure.
 *
 * @example
 * checkSigningFingerprint(signingFingerprintOf("old…"), "new…", ["old…"]) // { kind: "rotated", stored: "…" }
 */
import { LeoflowError, redactUrl } from "../domain";
import type { SigningFingerprintStore, StoredSigningFingerprint } from "../store";
import { parsePreviousSecrets } from "./signing-keys";

/** The HMAC's fixed message; a new version of it would make every stored fingerprint a mismatch. */
const FINGERPRINT_LABEL = "leoflow token signing secret fingerprint v1";

/** The fingerprint of a signing secret: HMAC-SHA256(key = secret, FINGERPRINT_LABEL), hex. */
export function signingFingerprintOf(secret: string): string {
  return new Bun.CryptoHasher("sha256", secret).update(FINGERPRINT_LABEL).digest("hex");
}

export type FingerprintCheck =
  /** No replica recorded one yet: record this replica's. */
  | { kind: "record" }
  /** The deployment's secret is this replica's. */
  | { kind: "same" }
  /** This replica runs a new secret with the deployment's as previous: it starts; leading, it moves the fingerprint on. */
  | { kind: "rotated"; stored: string }
  /** Neither its secret nor any previous one is the deployment's. */
  | { kind: "foreign" };

/** Whether a replica with `current` and `previous` secrets may join a deployment whose fingerprint is `stored`. Pure. */
export function checkSigningFingerprint(stored: string | null, current: string, previous: readonly string[]): FingerprintCheck {
  if (stored === null) return { kind: "record" };
  if (stored === signingFingerprintOf(current)) return { kind: "same" };
  if (previous.some((p) => signingFingerprintOf(p) === stored)) return { kind: "rotated", stored };
  return { kind: "foreign" };
}

/** The refusal: what differs, where it was recorded, and how to start. */
export function foreignSecretMessage(stored: StoredSigningFingerprint, db: string): string {
  return (
    `this replica's token signing secret (--jwt-secret) is not the one this Pro deployment signs tokens with ` +
    `(the database ${redactUrl(db)} holds its fingerprint, recorded by ${stored.replica} at ${stored.at.toISOString()}), ` +
    `nor is any of its --jwt-previous-secrets: it would refuse the user and agent tokens the other replicas sign. ` +
    `Start it with the same --jwt-secret (LEOFLOW_JWT_SECRET) as the other replicas; to rotate the secret, give the new ` +
    `one as --jwt-secret and the current one in --jwt-previous-secrets`
  );
}

/**
 * At a Pro replica's start: records the fingerprint on the deployment's first start, accepts a replica whose secret
 * (or a previous one) matches, and throws the refusal otherwise. Returns what the replica must do once it leads:
 * move the fingerprint on from the stored one (a rotation; moveSigningFingerprint), or nothing.
 */
export async function admitSigningSecret(
  store: SigningFingerprintStore,
  secrets: { current: string; previousCsv: string | undefined },
  where: { db: string; replica: string },
  now: Date,
): Promise<{ rotateFrom: string } | null> {
  const previous = parsePreviousSecrets(secrets.previousCsv);
  // Twice at most: two replicas recording the first fingerprint at once, the loser reads the winner's.
  for (let attempt = 0; attempt < 2; attempt++) {
    const stored = await store.signingFingerprint();
    const check = checkSigningFingerprint(stored?.fingerprint ?? null, secrets.current, previous);
    if (check.kind === "same") return null;
    if (check.kind === "rotated") return { rotateFrom: check.stored };
    if (check.kind === "foreign") throw new LeoflowError(foreignSecretMessage(stored!, where.db));
    if (await store.recordSigningFingerprint(signingFingerprintOf(secrets.current), null, where.replica, now)) return null;
  }
  throw new LeoflowError("could not record the token signing secret's fingerprint: another replica kept changing it; start again");
}

/**
 * A rotating replica that leads: the deployment's fingerprint becomes its new secret's, unless another replica moved
 * it meanwhile (a conditional write). From then on, a replica must run the new secret, or list it as previous.
 */
export async function moveSigningFingerprint(
  store: SigningFingerprintStore,
  rotation: { rotateFrom: string },
  current: string,
  replica: string,
  now: Date,
): Promise<boolean> {
  return store.recordSigningFingerprint(signingFingerprintOf(current), rotation.rotateFrom, replica, now);
}
