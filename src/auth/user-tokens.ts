/**
 * User tokens: HS256 JWTs returned by POST /auth/token and sent as `Authorization: Bearer`. They carry
 * `kind: "user"` so an agent token (kind "agent", same secret) is never accepted as a user, and vice versa.
 *
 * @example
 * const tokens = new UserTokens(secret);
 * const jwt = await tokens.issue({ username: "admin", role: "admin" });
 * const who = await tokens.verify(jwt); // { username: "admin", role: "admin" }
 */
import { SignJWT } from "jose";
import { LeoflowError } from "../domain";
import { verifyHs256, type TokenMessages, type TokenProblem } from "./jwt";
import { asSigningKeys, type SigningKeys } from "./signing-keys";
import { ROLES, type Role } from "./roles";

export interface UserClaims {
  username: string;
  role: Role;
}

export type UserTokenProblem = TokenProblem;

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
const MESSAGES: TokenMessages = {
  expired: "token expired; get a new one with POST /auth/token",
  badSignature:
    "token signature is invalid (issued by another server, or signed with a secret no longer in --jwt-secret / --jwt-previous-secrets); get a new one with POST /auth/token",
  wrongAlgorithm: "token uses an algorithm other than HS256",
  badClaim: (claim, reason) => `token claim "${claim}" is invalid: ${reason}`,
  notJwt: (detail) => `token is not a valid JWT (${detail}); get one with POST /auth/token`,
  wrongKind: (kind) =>
    `token is not a user token (kind=${kind}); agent tokens cannot call the REST API, get a user token with POST /auth/token`,
};
export const USER_TOKEN_TTL_SECONDS = 24 * 60 * 60;

export class UserTokens {
  private readonly keys: SigningKeys;

  /** `secret`: one secret, or the current one plus previous ones still accepted (signing-keys.ts). */
  constructor(
    secret: Uint8Array | string | SigningKeys,
    readonly ttlSeconds: number = USER_TOKEN_TTL_SECONDS,
  ) {
    this.keys = asSigningKeys(secret);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1)
      throw new LeoflowError(`user token lifetime must be a whole number of seconds, at least 1 (got ${ttlSeconds}); check --token-ttl`);
  }

  /** Signs a token for the user with the current key, valid for ttlSeconds (24 h by default, as Airflow's). */
  async issue(user: UserClaims, now: Date = new Date()): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ kind: KIND, role: user.role })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ISSUER)
      .setSubject(user.username)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .sign(this.keys.current);
  }

  /** Checks signature, expiry and kind; throws UserTokenError saying what is wrong and what to do. */
  async verify(token: string, now: Date = new Date()): Promise<UserClaims> {
    const payload = await verifyHs256(token, this.keys, {
      issuer: ISSUER,
      kind: KIND,
      now,
      messages: MESSAGES,
      makeError: (problem, message) => new UserTokenError(problem, message),
    });
    const { sub, role } = payload;
    if (typeof sub !== "string" || !sub || !ROLES.includes(role as Role))
      throw new UserTokenError("malformed", "user token is missing its sub or role claim; get a new one with POST /auth/token");
    return { username: sub, role: role as Role };
  }
}
