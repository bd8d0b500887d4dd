/**
 * Encryption of secrets at rest (connection passwords and extras, secret variables): AES-256-GCM with a
 * random 96-bit nonce per value, stored as a versioned envelope that names the key it was sealed with, so a
 * wrong key, a rotation in progress and rows still in plain text are each told apart:
 *
 *   lf1:<key id, 8 hex>:<base64 of nonce (12 bytes) + ciphertext + tag (16 bytes)>
 *
 * The key id is a truncated SHA-256 of the key (it says which key, and reveals nothing usable about it).
 * Each value is bound to its place (`aad`, e.g. "variable/db_password"), so a ciphertext copied into
 * another row or field does not decrypt there.
 *
 * @example
 * const cipher = new SecretsCipher(parseSecretsKey(process.env.LEOFLOW_SECRETS_KEY!, "LEOFLOW_SECRETS_KEY"));
 * const sealed = cipher.encrypt("s3cret", "variable/db_password"); // "lf1:1a2b3c4d:…"
 * cipher.decrypt(sealed, "variable/db_password"); // "s3cret"
 */
// node:crypto (AES-GCM) is required by the first seal or open, not imported: evaluating it and the node streams
// under it costs a server ~5 ms of every start (test/architecture/startup-graph.test.ts), and most never hold
// a secret. The key id and random bytes need only Bun.CryptoHasher and crypto.getRandomValues.
const nodeCrypto = () => require("node:crypto") as typeof import("node:crypto");
const randomBytes = (n: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(n)));
import { LeoflowError, SECRETS_KEY_BYTES as KEY_BYTES, SecretsKeyError } from "../domain";

const VERSION = "lf1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ENVELOPE = /^lf1:([0-9a-f]{8}):([A-Za-z0-9+/]+={0,2})$/;

/**
 * A stored secret that this key cannot open: `reason` says whether it was sealed under another key
 * ("other_key") or is damaged ("corrupt"). Messages name the row, never the value.
 */
export class SecretUnreadableError extends LeoflowError {
  constructor(
    message: string,
    readonly reason: "other_key" | "corrupt",
  ) {
    super(message);
  }
}

/** A fresh random key, base64-encoded (what Lite writes to its data dir). */
export function generateSecretsKey(): string {
  return randomBytes(KEY_BYTES).toString("base64");
}

/** The key id a key's envelopes carry. */
export function secretsKeyId(key: Buffer): string {
  return new Bun.CryptoHasher("sha256").update("leoflow secrets key id\0").update(key).digest("hex").slice(0, 8);
}

/** True when a stored value is an envelope (else it is plain text written before encryption existed). */
export function isSealed(stored: string): boolean {
  return ENVELOPE.test(stored);
}

/** The key id an envelope was sealed under, or null for plain text. */
export function sealedKeyId(stored: string): string | null {
  return ENVELOPE.exec(stored)?.[1] ?? null;
}

export class SecretsCipher {
  readonly keyId: string;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new SecretsKeyError(`a secrets key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Buffer.from(key);
    this.keyId = secretsKeyId(key);
  }

  /** Seals `plaintext` for the place `aad` names. */
  encrypt(plaintext: string, aad: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const c = nodeCrypto().createCipheriv("aes-256-gcm", this.#key, nonce);
    c.setAAD(Buffer.from(aad));
    const body = Buffer.concat([nonce, c.update(plaintext, "utf8"), c.final(), c.getAuthTag()]);
    return `${VERSION}:${this.keyId}:${body.toString("base64")}`;
  }

  /**
   * Opens an envelope sealed for `aad`. `what` names the row in errors ("connection api_default"). Throws
   * SecretUnreadableError when it was sealed under another key or does not authenticate.
   */
  decrypt(stored: string, aad: string, what: string): string {
    const m = ENVELOPE.exec(stored);
    if (!m) throw new SecretUnreadableError(`cannot decrypt ${what}: the stored value is not a Leoflow envelope`, "corrupt");
    if (m[1] !== this.keyId)
      throw new SecretUnreadableError(
        `cannot decrypt ${what}: the secrets key differs from the one it was written with (written under key id ${m[1]}, ` +
          `this server's key id is ${this.keyId}); start with the key it was written with (--secrets-key or LEOFLOW_SECRETS_KEY), ` +
          "or re-encrypt with `leoflow secrets rotate --old-key OLD --new-key NEW`",
        "other_key",
      );
    const body = Buffer.from(m[2]!, "base64");
    if (body.length < NONCE_BYTES + TAG_BYTES)
      throw new SecretUnreadableError(`cannot decrypt ${what}: the stored value is truncated`, "corrupt");
    try {
      const d = nodeCrypto().createDecipheriv("aes-256-gcm", this.#key, body.subarray(0, NONCE_BYTES));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([d.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), d.final()]).toString("utf8");
    } catch {
      throw new SecretUnreadableError(
        `cannot decrypt ${what}: the stored value does not authenticate under key id ${this.keyId} (it was altered, or copied from another row)`,
        "corrupt",
      );
    }
  }
}
