import { describe, expect, test } from "bun:test";
import { AgentTokenError, AgentTokens, UserTokenError, UserTokens, parsePreviousSecrets, signingKeys } from "../../../src/auth";

const OLD = "old-secret-0123456789abcdef-0123";
const NEW = "new-secret-0123456789abcdef-0123";
const NOW = new Date("2026-03-01T12:00:00Z");
const later = (s: number) => new Date(NOW.getTime() + s * 1000);
const ADA = { username: "ada", role: "op" } as const;
const TI = { tiId: 7, tryNumber: 1, dagId: "etl", runId: "r", taskId: "t" };

async function problemOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (e) {
    if (e instanceof UserTokenError || e instanceof AgentTokenError) return e.problem;
    throw e;
  }
}

describe("signing-key rotation", () => {
  const before = new UserTokens(OLD);
  const rotated = new UserTokens(signingKeys(NEW, [OLD]));

  test("a token signed before the rotation stays valid until it expires", async () => {
    const old = await before.issue(ADA, NOW);
    expect(await rotated.verify(old, later(60))).toEqual(ADA);
    expect(await problemOf(rotated.verify(old, later(86400 + 1)))).toBe("expired");
  });

  test("new tokens are signed with the current secret only", async () => {
    const fresh = await rotated.issue(ADA, NOW);
    expect(await new UserTokens(NEW).verify(fresh, NOW)).toEqual(ADA);
    expect(await problemOf(before.verify(fresh, NOW))).toBe("bad_signature");
  });

  test("once the old secret is dropped, its tokens are refused with a message naming the flags", async () => {
    const old = await before.issue(ADA, NOW);
    const e = await new UserTokens(NEW).verify(old, NOW).catch((x: UserTokenError) => x);
    expect(e).toBeInstanceOf(UserTokenError);
    expect((e as UserTokenError).problem).toBe("bad_signature");
    expect((e as UserTokenError).message).toContain("--jwt-previous-secrets");
  });

  test("agent tokens rotate the same way", async () => {
    const old = await new AgentTokens(OLD).issue(TI, 3600, NOW);
    expect(await new AgentTokens(signingKeys(NEW, [OLD])).verify(old, NOW)).toEqual(TI);
    expect(await problemOf(new AgentTokens(NEW).verify(old, NOW))).toBe("bad_signature");
  });

  test("a user token is still not an agent token under any key", async () => {
    const user = await before.issue(ADA, NOW);
    expect(await problemOf(new AgentTokens(signingKeys(NEW, [OLD])).verify(user, NOW))).toBe("wrong_kind");
  });

  test("the token lifetime is configurable", async () => {
    const short = new UserTokens(NEW, 120);
    const t = await short.issue(ADA, NOW);
    expect(await short.verify(t, later(119))).toEqual(ADA);
    expect(await problemOf(short.verify(t, later(121)))).toBe("expired");
    expect(() => new UserTokens(NEW, 0)).toThrow("--token-ttl");
  });

  test("previous secrets: comma-separated, blanks ignored, each at least 16 bytes", () => {
    expect(parsePreviousSecrets(` ${OLD} ,, ${NEW},`)).toEqual([OLD, NEW]);
    expect(parsePreviousSecrets(undefined)).toEqual([]);
    expect(() => signingKeys(NEW, ["short"])).toThrow("previous signing secret #1 (--jwt-previous-secrets) is too short");
    expect(() => signingKeys("short")).toThrow("--jwt-secret");
  });
});
