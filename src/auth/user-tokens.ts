/**
 * User tokens: HS256 JWTs returned by POST /auth/token and sent as `Authorization: Bearer`. They carry
 * `kind: "user"` so an agent token (kind "agent", same secret) is never accepted as a user, and vice versa.
 *
 * @example
 * const tokens = new UserTokens(secret);
 * const jwt = await tokens.issue({ username: "admin", role: "admin" });
 * const who = await tokens.verify(jwt); // { username: "admin", role: "admin" }
 */
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { LeoflowError } from "../domain";
import type { UserRecord } from "../store";

export type Role = UserRecord["role"];
export const ROLES: readonly Role[] = ["admin", "op", "user", "viewer"];

export interface UserClaims {
  username: string;
  role: Role;
}

export type UserTokenProblem = "expired" | "wrong_kind" | "bad_signature" | "malformed";

/** A token that cannot be accepted; `problem` says which check failed (the API answers 401). */
export class UserTokenError extends LeoflowError {
  constructor(
    readonly problem: UserTokenProblem,
    message: string,
  ) {
    super(message);
  }
}

const ISSUER = "leoflow";
const KIND = "user";
export const USER_TOKEN_TTL_SECONDS = 24 * 60 * 60;

export class UserTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: Uint8Array | string,
    readonly ttlSeconds: number = USER_TOKEN_TTL_SECONDS,
  ) {
    this.key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
    if (this.key.length < 16) throw new LeoflowError("user token secret is too short: use at least 16 bytes (32 random bytes recommended)");
  }

  /** Signs a token for the user, valid for ttlSeconds (24 h by default). */
  async issue(user: UserClaims, now: Date = new Date()): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ kind: KIND, role: user.role })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ISSUER)
      .setSubject(user.username)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .sign(this.key);
  }

  /** Checks signature, expiry and kind; throws UserTokenError saying what is wrong and what to do. */
  async verify(token: string, now: Date = new Date()): Promise<UserClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"], issuer: ISSUER, currentDate: now }));
    } catch (e) {
      throw describeJoseError(e);
    }
    if (payload.kind !== KIND)
      throw new UserTokenError(
        "wrong_kind",
        `token is not a user token (kind=${JSON.stringify(payload.kind ?? null)}); agent tokens cannot call the REST API, get a user token with POST /auth/token`,
      );
    const { sub, role } = payload;
    if (typeof sub !== "string" || !sub || !ROLES.includes(role as Role))
      throw new UserTokenError("malformed", "user token is missing its sub or role claim; get a new one with POST /auth/token");
    return { username: sub, role: role as Role };
  }
}

function describeJoseError(e: unknown): UserTokenError {
  if (e instanceof joseErrors.JWTExpired)
    return new UserTokenError("expired", "token expired; get a new one with POST /auth/token");
  if (e instanceof joseErrors.JWSSignatureVerificationFailed)
    return new UserTokenError("bad_signature", "token signature is invalid (was it issued by another server or before a secret change?); get a new one with POST /auth/token");
  if (e instanceof joseErrors.JOSEAlgNotAllowed)
    return new UserTokenError("bad_signature", "token uses an algorithm other than HS256");
  if (e instanceof joseErrors.JWTClaimValidationFailed)
    return new UserTokenError("malformed", `token claim "${e.claim}" is invalid: ${e.reason}`);
  const msg = e instanceof Error ? e.message : String(e);
  return new UserTokenError("malformed", `token is not a valid JWT (${msg}); get one with POST /auth/token`);
}
