/**
 * The HS256 JWT check shared by user tokens and agent tokens: signature (the current key, then previous
 * ones), issuer, expiry and the `kind` claim, with jose's errors mapped to a problem and a message. Each caller passes its own messages and error class,
 * so a user and an agent are each told precisely what is wrong.
 */
import { jwtVerify, errors as joseErrors } from "jose";
import { acceptSync } from "./hs256-sync";
import type { SigningKeys } from "./signing-keys";

export type TokenProblem = "expired" | "wrong_kind" | "bad_signature" | "malformed";

/** What a caller says for each failed check (the parts that differ between token kinds). */
export interface TokenMessages {
  expired: string;
  badSignature: string;
  wrongAlgorithm: string;
  /** A claim jose refused (iss, iat, …) and its reason. */
  badClaim(claim: string, reason: string): string;
  /** Not a JWT at all; `detail` is jose's message. */
  notJwt(detail: string): string;
  /** `kind` is the token's kind claim as JSON (`null` when absent). */
  wrongKind(kind: string): string;
}

/**
 * Verifies an HS256 JWT from `issuer` carrying `kind`, and returns its payload; otherwise throws
 * `makeError(problem, message)` with the caller's message for the check that failed.
 */
export async function verifyHs256<E extends Error>(
  token: string,
  keys: SigningKeys,
  opts: { issuer: string; kind: string; now: Date; messages: TokenMessages; makeError: (problem: TokenProblem, message: string) => E },
): Promise<Record<string, unknown>> {
  // Every API request and agent call checks a token: the common case (current key, valid) without WebCrypto
  // (hs256-sync.ts); anything else (a previous key, expired, forged, malformed) is judged, and described, by jose.
  const fast = acceptSync(token, keys.current, opts);
  if (fast) return fast;
  const { messages: m, makeError } = opts;
  const all = [keys.current, ...keys.previous];
  let payload: Record<string, unknown> | undefined;
  // The current key first; a previous one only when the signature does not match (a token from before a
  // rotation). Any other failure (expired, malformed) is final whichever key signed it.
  for (let i = 0; !payload; i++) {
    try {
      ({ payload } = await jwtVerify(token, all[i]!, { algorithms: ["HS256"], issuer: opts.issuer, currentDate: opts.now }));
    } catch (e) {
      if (e instanceof joseErrors.JWSSignatureVerificationFailed && i < all.length - 1) continue;
      throw describeJoseError(e, m, makeError);
    }
  }
  if (payload.kind !== opts.kind) throw makeError("wrong_kind", m.wrongKind(JSON.stringify(payload.kind ?? null)));
  return payload;
}

function describeJoseError<E extends Error>(e: unknown, m: TokenMessages, makeError: (problem: TokenProblem, message: string) => E): E {
  if (e instanceof joseErrors.JWTExpired) return makeError("expired", m.expired);
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return makeError("bad_signature", m.badSignature);
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return makeError("bad_signature", m.wrongAlgorithm);
  if (e instanceof joseErrors.JWTClaimValidationFailed) return makeError("malformed", m.badClaim(e.claim, e.reason));
  return makeError("malformed", m.notJwt(e instanceof Error ? e.message : String(e)));
}
