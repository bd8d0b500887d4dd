import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { AgentTokens, UserTokenError, UserTokens } from "../../../src/auth";

const SECRET = "0123456789abcdef0123456789abcdef";
const NOW = new Date("2026-03-01T12:00:00Z");
const at = (hours: number) => new Date(NOW.getTime() + hours * 3600_000);

async function problemOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (e) {
    expect(e).toBeInstanceOf(UserTokenError);
    return (e as UserTokenError).problem;
  }
}

describe("UserTokens", () => {
  const tokens = new UserTokens(SECRET);

  test("round trip within 24 h", async () => {
    const jwt = await tokens.issue({ username: "alice", role: "viewer" }, NOW);
    expect(await tokens.verify(jwt, at(23.9))).toEqual({ username: "alice", role: "viewer" });
  });

  test("expires after 24 h", async () => {
    const jwt = await tokens.issue({ username: "alice", role: "admin" }, NOW);
    expect(await problemOf(tokens.verify(jwt, at(24.1)))).toBe("expired");
  });

  test("a token signed with another secret is refused", async () => {
    const other = new UserTokens("another-secret-of-32-bytes-ok!!!");
    const jwt = await other.issue({ username: "alice", role: "admin" }, NOW);
    expect(await problemOf(tokens.verify(jwt, NOW))).toBe("bad_signature");
  });

  test("an agent token (same secret) is refused, and a user token is not an agent token", async () => {
    const agents = new AgentTokens(SECRET);
    const agentJwt = await agents.issue({ tiId: 1, tryNumber: 1, dagId: "d", runId: "r", taskId: "t" }, 3600, NOW);
    expect(await problemOf(tokens.verify(agentJwt, NOW))).toBe("wrong_kind");
    const userJwt = await tokens.issue({ username: "alice", role: "admin" }, NOW);
    await expect(agents.verify(userJwt, NOW)).rejects.toThrow(/not an agent token/);
  });

  test("garbage is malformed", async () => {
    expect(await problemOf(tokens.verify("not.a.jwt", NOW))).toBe("malformed");
  });

  // The common case is checked without jose (hs256-sync.ts); what that path leaves to jose is refused as before.
  test("a changed payload (another user or role) keeps its signature and is refused", async () => {
    const [h, p, sig] = (await tokens.issue({ username: "alice", role: "viewer" }, NOW)).split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "admin", role: "admin" })).toString("base64url");
    expect(await problemOf(tokens.verify(`${h}.${forged}.${sig}`, NOW))).toBe("bad_signature");
  });

  test("a token from before a key rotation is still accepted, by the previous key", async () => {
    const before = await tokens.issue({ username: "alice", role: "op" }, NOW);
    const rotated = new UserTokens({
      current: new TextEncoder().encode("a-new-secret-0123456789abcdef-01"),
      previous: [new TextEncoder().encode(SECRET)],
    });
    expect(await rotated.verify(before, at(1))).toEqual({ username: "alice", role: "op" });
  });

  test("a token not valid yet, or from another issuer, signed with our secret", async () => {
    const signed = (payload: Record<string, unknown>) => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
      const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(payload)}`;
      return `${body}.${createHmac("sha256", SECRET).update(body).digest("base64url")}`;
    };
    const now = NOW.getTime() / 1000;
    const valid = { kind: "user", role: "admin", iss: "leoflow", sub: "alice", iat: now, exp: now + 60 };
    expect(await tokens.verify(signed(valid), NOW)).toEqual({ username: "alice", role: "admin" });
    expect(await problemOf(tokens.verify(signed({ ...valid, nbf: now + 30 }), NOW))).toBe("malformed");
    expect(await problemOf(tokens.verify(signed({ ...valid, iss: "someone" }), NOW))).toBe("malformed");
  });

  test("a short secret is refused at construction", () => {
    expect(() => new UserTokens("short")).toThrow(/at least 16 bytes/);
  });
});
