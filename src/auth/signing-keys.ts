/**
 * The keys that sign and check tokens: new tokens are signed with the current secret; tokens signed with a
 * previous one (`--jwt-previous-secrets`) are still accepted until they expire, so the secret can be rotated
 * without logging everyone out (and without failing running tasks' agent tokens).
 *
 * @example
 * const keys = signingKeys("new-secret-32-bytes…", parsePreviousSecrets("old-secret-32-bytes…"));
 * new UserTokens(keys).issue(...) // signed with the new secret; the old secret's tokens still verify
 */
import { LeoflowError } from "../domain";

export interface SigningKeys {
  /** Signs every new token, and is tried first when checking one. */
  current: Uint8Array;
  /** Only checked: tokens signed before the last rotation(s). */
  previous: readonly Uint8Array[];
}

export const MIN_SECRET_BYTES = 16;

/** Keys from the configured secrets; each must be at least 16 bytes. */
export function signingKeys(current: string | Uint8Array, previous: readonly (string | Uint8Array)[] = []): SigningKeys {
  const key = (s: string | Uint8Array, what: string) => {
    const bytes = typeof s === "string" ? new TextEncoder().encode(s) : s;
    if (bytes.length < MIN_SECRET_BYTES)
      throw new LeoflowError(`${what} is too short: use at least ${MIN_SECRET_BYTES} bytes (32 random bytes recommended)`);
    return bytes;
  };
  return {
    current: key(current, "the token signing secret (--jwt-secret)"),
    previous: previous.map((p, i) => key(p, `previous signing secret #${i + 1} (--jwt-previous-secrets)`)),
  };
}

/** `--jwt-previous-secrets`: comma-separated, blanks ignored (a trailing comma is harmless). */
export function parsePreviousSecrets(csv: string | undefined): string[] {
  return (csv ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A bare secret is a key set with nothing previous. */
export function asSigningKeys(secret: string | Uint8Array | SigningKeys): SigningKeys {
  return typeof secret === "string" || secret instanceof Uint8Array ? signingKeys(secret) : secret;
}
