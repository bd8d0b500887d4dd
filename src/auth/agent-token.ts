/**
 * Agent tokens: short-lived HS256 JWTs minted at dispatch, scoped to one task instance try. They carry a
 * `kind: "agent"` claim so a user JWT signed with the same secret can never pass as an agent (and vice versa
 * the user-JWT verifier must refuse `kind: "agent"`).
 *
 * @example
 * const tokens = new AgentTokens(secret);
 * const t = await tokens.issue({ tiId: 7, tryNumber: 1, dagId: "etl", runId: "manual__1", taskId: "extract" }, 3600);
 * const id = await tokens.verify(t); // { tiId: 7, ... }
 */
import { LeoflowError } from "../domain";
import { verifyHs256, type TokenMessages, type TokenProblem } from "./jwt";
import { signHs256Sync } from "./hs256-sync";
import { asSigningKeys, type SigningKeys } from "./signing-keys";

export interface AgentIdentity {
  tiId: number;
  tryNumber: number;
  dagId: string;
  runId: string;
  taskId: string;
  /** The agent gets a fresh token on heartbeat (a task without execution_timeout); absent means no. */
  renewable?: boolean;
}

/** A verified token: who it names and when it stops being accepted. */
export interface VerifiedAgentToken {
  id: AgentIdentity;
  expiresAt: Date;
}

export type AgentTokenProblem = TokenProblem;

/** A token that cannot be accepted; `problem` says why (the rpc layer maps it to Unauthenticated). */
export class AgentTokenError extends LeoflowError {
  constructor(
    readonly problem: AgentTokenProblem,
    message: string,
  ) {
    super(message);
  }
}

const ISSUER = "leoflow";
const KIND = "agent";
const MESSAGES: TokenMessages = {
  expired: "agent token expired; the task instance try outlived its token (raise the agent token TTL or the dispatch timeout)",
  badSignature:
    "agent token signature is invalid; it was not minted by this control plane (check that all replicas share one --jwt-secret, and keep a rotated-out secret in --jwt-previous-secrets until its tokens expire)",
  wrongAlgorithm: "agent token uses an algorithm other than HS256",
  badClaim: (claim, reason) => `agent token claim "${claim}" is invalid: ${reason}`,
  notJwt: (detail) => `agent token is not a valid JWT: ${detail}`,
  wrongKind: (kind) =>
    `token is not an agent token (kind=${kind}); agents must use the token minted at dispatch (LEOFLOW_AGENT_TOKEN), not a user token`,
};

export class AgentTokens {
  private readonly keys: SigningKeys;

  /** `secret`: one secret, or the current one plus previous ones still accepted (signing-keys.ts). */
  constructor(secret: Uint8Array | string | SigningKeys) {
    this.keys = asSigningKeys(secret);
  }

  /** Mints a token for one task instance try, valid for `ttlSeconds`. */
  async issue(id: AgentIdentity, ttlSeconds: number, now: Date = new Date()): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    const claims = {
      kind: KIND,
      ti: id.tiId,
      try: id.tryNumber,
      dag: id.dagId,
      run: id.runId,
      task: id.taskId,
      ...(id.renewable ? { rn: true } : {}),
    };
    // Synchronous HMAC: a mint is on every try's path from queued to running (hs256-sync.ts).
    const registered = { iss: ISSUER, sub: `ti:${id.tiId}:${id.tryNumber}`, iat, exp: iat + Math.max(1, Math.floor(ttlSeconds)) };
    return signHs256Sync({ ...claims, ...registered }, this.keys.current);
  }

  /** Verifies signature, expiry and kind; throws AgentTokenError saying which check failed. */
  async verify(token: string, now: Date = new Date()): Promise<AgentIdentity> {
    return (await this.verifyWithExpiry(token, now)).id;
  }

  /** verify, and when the token expires (the RPC renews renewable tokens that are past half their life). */
  async verifyWithExpiry(token: string, now: Date = new Date()): Promise<VerifiedAgentToken> {
    const payload = await verifyHs256(token, this.keys, {
      issuer: ISSUER,
      kind: KIND,
      now,
      messages: MESSAGES,
      makeError: (problem, message) => new AgentTokenError(problem, message),
    });
    const { ti, try: tryNumber, dag, run, task, rn, exp } = payload;
    if (
      typeof ti !== "number" ||
      typeof tryNumber !== "number" ||
      typeof dag !== "string" ||
      typeof run !== "string" ||
      typeof task !== "string" ||
      typeof exp !== "number"
    )
      throw new AgentTokenError("malformed", "agent token is missing its task instance claims (ti, try, dag, run, task, exp)");
    const id: AgentIdentity = { tiId: ti, tryNumber, dagId: dag, runId: run, taskId: task, ...(rn === true ? { renewable: true } : {}) };
    return { id, expiresAt: new Date(exp * 1000) };
  }
}
