/**
 * The format of the key that encrypts secrets at rest: 32 bytes, given as 64 hex digits or base64. Pure, so
 * config validation can refuse a bad key without loading the cipher or the store.
 */
import { LeoflowError } from "./errors";

export const SECRETS_KEY_BYTES = 32;

/** How to make a good key, for error messages and help. */
export const SECRETS_KEY_HINT = "32 random bytes as 64 hex digits or base64, e.g. the output of `openssl rand -base64 32`";

/** A secrets key that cannot be used (wrong length or encoding). The message never contains the key. */
export class SecretsKeyError extends LeoflowError {}

/**
 * Reads a key given as 64 hex digits or as base64/base64url of exactly 32 bytes; anything else is refused.
 *
 * @example parseSecretsKey("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=", "--secrets-key").length // 32
 */
export function parseSecretsKey(text: string, source: string): Buffer {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, "hex");
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) {
    const bytes = Buffer.from(s.replaceAll("-", "+").replaceAll("_", "/"), "base64");
    if (bytes.length === SECRETS_KEY_BYTES) return bytes;
    throw new SecretsKeyError(`${source} decodes to ${bytes.length} bytes; it must be ${SECRETS_KEY_HINT}`);
  }
  throw new SecretsKeyError(`${source} is neither hex nor base64 (${s.length} characters); it must be ${SECRETS_KEY_HINT}`);
}
