import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { AgentTokenError, AgentTokens } from "../../../src/auth/agent-token";

const secret = "0123456789abcdef0123456789abcdef";
const id = { tiId: 7, tryNumber: 2, dagId: "etl", runId: "manual__2026-01-01", taskId: "extract" };
const t0 = new Date("2026-01-01T00:00:00Z");

async function problem(p: Promise<unknown>): Promise<[string, string]> {
  const e = await p.then(
    () => null,
    (e) => e,
  );
  expect(e).toBeInstanceOf(AgentTokenError);
  return [(e as AgentTokenError).problem, (e as Error).message];
}

describe("AgentTokens", () => {
  const tokens = new AgentTokens(secret);

  test("round-trips the identity", async () => {
    expect(await tokens.verify(await tokens.issue(id, 60))).toEqual(id);
  });

  test("a renewable token says so, and when it expires", async () => {
    const tok = await tokens.issue({ ...id, renewable: true }, 60, t0);
    expect(await tokens.verifyWithExpiry(tok, t0)).toEqual({ id: { ...id, renewable: true }, expiresAt: new Date(t0.getTime() + 60_000) });
  });

  test("accepts a Uint8Array secret", async () => {
    const t = new AgentTokens(new TextEncoder().encode(secret));
    expect(await tokens.verify(await t.issue(id, 60))).toEqual(id);
  });

  test("expired", async () => {
    const tok = await tokens.issue(id, 60, t0);
    expect(await tokens.verify(tok, new Date(t0.getTime() + 59_000))).toEqual(id);
    const [p, msg] = await problem(tokens.verify(tok, new Date(t0.getTime() + 61_000)));
    expect(p).toBe("expired");
    expect(msg).toContain("agent token expired");
  });

  test("another secret → bad signature", async () => {
    const other = new AgentTokens("another-secret-of-32-bytes-long!");
    const [p, msg] = await problem(tokens.verify(await other.issue(id, 60)));
    expect(p).toBe("bad_signature");
    expect(msg).toContain("not minted by this control plane");
  });

  test("a user JWT signed with the same secret → wrong kind", async () => {
    const user = await new SignJWT({ kind: "user", role: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("leoflow")
      .setSubject("admin")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(secret));
    const [p, msg] = await problem(tokens.verify(user));
    expect(p).toBe("wrong_kind");
    expect(msg).toContain('kind="user"');
  });

  test("garbage → malformed", async () => {
    const [p, msg] = await problem(tokens.verify("not.a.jwt"));
    expect(p).toBe("malformed");
    expect(msg).toStartWith("agent token is not a valid JWT");
  });

  test("a short secret is refused", () => {
    expect(() => new AgentTokens("short")).toThrow(/at least 16 bytes/);
  });
});
