/**
 * The agent door: what every AgentService request passes before Connect decodes a byte of it. The bearer token
 * is verified first (signature, expiry, kind; no store access), so an anonymous caller is refused without its
 * body being read; then the body is read up to the limit (`--rpc-max-body`), never past it. Refusals are
 * Connect JSON errors, which the agent's client reads like any other RPC error.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJson } from "@connectrpc/connect/protocol-connect";
import { AgentTokenError, type AgentTokens, type VerifiedAgentToken } from "../auth";
import { formatLimit, readBodyLimited } from "./body-limit";

export interface DoorOptions {
  tokens: AgentTokens;
  maxBodyBytes: number;
  now: () => Date;
}

export type DoorResult = { ok: true; token: VerifiedAgentToken; body: Uint8Array } | { ok: false; response: Response };

export const MISSING_TOKEN =
  "missing agent token: send `Authorization: Bearer <token>` with the token minted at dispatch (leoflow agent --token or LEOFLOW_AGENT_TOKEN)";

/** The token in `Authorization: Bearer <token>`, or null. */
export function bearerToken(header: Headers): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec((header.get("authorization") ?? "").trim());
  return match ? match[1]! : null;
}

/** Checks the token, then reads the body within the limit; `method` (e.g. "Heartbeat") is for messages. */
export async function passDoor(req: Request, method: string, opts: DoorOptions): Promise<DoorResult> {
  const token = bearerToken(req.headers);
  if (!token) return refuse(new ConnectError(MISSING_TOKEN, Code.Unauthenticated));
  let verified: VerifiedAgentToken;
  try {
    verified = await opts.tokens.verifyWithExpiry(token, opts.now());
  } catch (e) {
    if (e instanceof AgentTokenError) return refuse(new ConnectError(e.message, Code.Unauthenticated));
    throw e;
  }
  const body = await readBodyLimited(req, opts.maxBodyBytes);
  if (!body.ok) return refuse(new ConnectError(tooLargeMessage(method, opts.maxBodyBytes, body.seen), Code.ResourceExhausted));
  return { ok: true, token: verified, body: body.bytes };
}

export function tooLargeMessage(method: string, maxBytes: number, seen: string): string {
  return (
    `${method} request body is larger than the agent RPC limit of ${formatLimit(maxBytes)} (${seen}); ` +
    `the control plane's --rpc-max-body (LEOFLOW_RPC_MAX_BODY) sets it`
  );
}

/**
 * A Connect unary error response. `connection: close` because the body may be unread: the server drops the
 * connection instead of draining what the client is still sending.
 */
export function refuse(error: ConnectError): DoorResult {
  const response = Response.json(errorToJson(error, undefined), {
    status: codeToHttpStatus(error.code),
    headers: { connection: "close" },
  });
  return { ok: false, response };
}
