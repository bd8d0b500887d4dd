import { describe, expect, test } from "bun:test";
import { SignJWT, jwtVerify } from "jose";
import { createHmac } from "node:crypto";
import { AgentTokenError, AgentTokens, UserTokens } from "../../../src/auth";

// Agent tokens are minted and (in the common case) checked with a synchronous HMAC (hs256-sync.ts); these pin
// that the fast path is jose's format and never accepts a token jose would refuse.
const SECRET = "agent-secret-0123456789abcdef-01";
const KEY = new TextEncoder().encode(SECRET);
const NOW = new Date("2026-03-01T12:00:00Z");
const NOW_S = NOW.getTime() / 1000;
const later = (s: number) => new Date(NOW.getTime() + s * 1000);
const TI = { tiId: 7, tryNumber: 2, dagId: "etl", runId: "manual__1", taskId: "extract" };
const CLAIMS = { kind: "agent", ti: 7, try: 2, dag: "etl", run: "manual__1", task: "extract" };
const tokens = new AgentTokens(SECRET);

async function problemOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (e) {
    if (e instanceof AgentTokenError) return e.problem;
    throw e;
  }
}

/** A token with any header and payload, signed with SECRET: what only a holder of the key can make. */
function signedRaw(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const signed = `${b64(header)}.${b64(payload)}`;
  return `${signed}.${createHmac("sha256", KEY).update(signed).digest("base64url")}`;
}

describe("agent tokens: jose's format", () => {
  test("a minted token is a JWT jose verifies, with every claim", async () => {
    const token = await tokens.issue({ ...TI, renewable: true }, 600, NOW);
    const { payload, protectedHeader } = await jwtVerify(token, KEY, { issuer: "leoflow", currentDate: NOW });
    expect(protectedHeader).toEqual({ alg: "HS256", typ: "JWT" });
    expect(payload).toEqual({ ...CLAIMS, rn: true, iss: "leoflow", sub: "ti:7:2", iat: NOW_S, exp: NOW_S + 600 });
  });

  test("a token jose signed (as before) is accepted", async () => {
    const token = await new SignJWT(CLAIMS)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer("leoflow")
      .setSubject("ti:7:2")
      .setIssuedAt(NOW_S)
      .setExpirationTime(NOW_S + 60)
      .sign(KEY);
    expect(await tokens.verifyWithExpiry(token, NOW)).toEqual({ id: TI, expiresAt: later(60) });
  });

  test("expiry is jose's: valid up to the second before exp, expired from exp on", async () => {
    const token = await tokens.issue(TI, 60, NOW);
    expect(await tokens.verify(token, later(59.9))).toEqual(TI);
    expect(await problemOf(tokens.verify(token, later(60)))).toBe("expired");
  });
});

describe("agent tokens: what the fast path leaves to jose is refused as before", () => {
  const valid = { ...CLAIMS, iss: "leoflow", sub: "ti:7:2", iat: NOW_S, exp: NOW_S + 60 };

  test("a changed payload or signature", async () => {
    const [h, , s] = (await tokens.issue(TI, 60, NOW)).split(".");
    const forged = Buffer.from(JSON.stringify({ ...valid, ti: 8 })).toString("base64url");
    expect(await problemOf(tokens.verify(`${h}.${forged}.${s}`, NOW))).toBe("bad_signature");
    expect(await problemOf(tokens.verify(`${h}.${forged}.${s!.slice(0, -2)}AA`, NOW))).toBe("bad_signature");
    expect(await problemOf(new AgentTokens("another-secret-0123456789abcdef").verify(await tokens.issue(TI, 60, NOW), NOW))).toBe(
      "bad_signature",
    );
  });

  test("another header: an unknown critical extension, or no algorithm", async () => {
    expect(await problemOf(tokens.verify(signedRaw({ alg: "HS256", typ: "JWT", crit: ["x"], x: 1 }, valid), NOW))).toBe("malformed");
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(valid)).toString("base64url")}.`;
    expect(await problemOf(tokens.verify(none, NOW))).not.toBe("accepted");
  });

  test("a token not valid yet, an iat that is no number, another issuer", async () => {
    const h = { alg: "HS256", typ: "JWT" };
    expect(await problemOf(tokens.verify(signedRaw(h, { ...valid, nbf: NOW_S + 30 }), NOW))).toBe("malformed");
    expect(await problemOf(tokens.verify(signedRaw(h, { ...valid, iat: "now" }), NOW))).toBe("malformed");
    expect(await problemOf(tokens.verify(signedRaw(h, { ...valid, iss: "someone" }), NOW))).toBe("malformed");
  });

  test("a user token signed with the same secret", async () => {
    const user = await new UserTokens(SECRET).issue({ username: "ada", role: "op" }, NOW);
    expect(await problemOf(tokens.verify(user, NOW))).toBe("wrong_kind");
  });
});
