import { describe, expect, test } from "bun:test";
import {
  ADDRESS_POLICY,
  LoginThrottle,
  USER_AT_ADDRESS_POLICY,
  afterFailure,
  clientAddress,
  lockRemainingMs,
  type FailureCount,
} from "../../../src/api/login-throttle";

const T0 = new Date("2026-03-01T12:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe("afterFailure (user at one address: 5 free, then 1 s doubling to 5 min)", () => {
  /** The lockout after each of `n` failures one second apart. */
  function locksAfter(n: number): number[] {
    let c: FailureCount | undefined;
    const locks: number[] = [];
    for (let i = 0; i < n; i++) {
      const now = T0.getTime() + i * 1000;
      c = afterFailure(c, now, USER_AT_ADDRESS_POLICY);
      locks.push(lockRemainingMs(c, now) / 1000);
    }
    return locks;
  }

  test("lockouts grow 1, 2, 4, … seconds from the 5th failure and stop at 300", () => {
    expect(locksAfter(16)).toEqual([0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
  });

  test("a quiet window (15 min without a failure) forgets the count", () => {
    let c: FailureCount | undefined;
    for (let i = 0; i < 5; i++) c = afterFailure(c, T0.getTime(), USER_AT_ADDRESS_POLICY);
    expect(c!.failures).toBe(5);
    const later = T0.getTime() + 15 * 60_000 + 1;
    c = afterFailure(c, later, USER_AT_ADDRESS_POLICY);
    expect(c).toEqual({ failures: 1, lastFailureMs: later, lockedUntilMs: 0 });
  });

  test("spraying many usernames from one address: the address locks after 20", () => {
    let c: FailureCount | undefined;
    for (let i = 0; i < 19; i++) c = afterFailure(c, T0.getTime(), ADDRESS_POLICY);
    expect(lockRemainingMs(c, T0.getTime())).toBe(0);
    c = afterFailure(c, T0.getTime(), ADDRESS_POLICY);
    expect(lockRemainingMs(c, T0.getTime())).toBe(1000);
  });
});

describe("LoginThrottle", () => {
  test("the 6th try right after 5 failures waits; the wait ends; another address is not affected", () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 5; i++) {
      expect(t.retryAfterSeconds("admin", "10.0.0.9", T0)).toBe(0);
      t.failed("admin", "10.0.0.9", T0);
    }
    expect(t.retryAfterSeconds("admin", "10.0.0.9", T0)).toBe(1);
    expect(t.retryAfterSeconds("admin", "10.0.0.7", T0)).toBe(0); // the real user elsewhere
    expect(t.retryAfterSeconds("admin", "10.0.0.9", at(1))).toBe(0);
    t.failed("admin", "10.0.0.9", at(1));
    expect(t.retryAfterSeconds("admin", "10.0.0.9", at(1))).toBe(2);
  });

  test("a success clears the user's count at that address", () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 4; i++) t.failed("admin", "10.0.0.9", T0);
    t.succeeded("admin", "10.0.0.9");
    for (let i = 0; i < 4; i++) t.failed("admin", "10.0.0.9", T0);
    expect(t.retryAfterSeconds("admin", "10.0.0.9", T0)).toBe(0);
  });

  test("20 failures over different usernames lock the address for everyone there, not elsewhere", () => {
    const t = new LoginThrottle();
    for (let i = 0; i < 20; i++) t.failed(`user${i}`, "10.0.0.9", T0);
    expect(t.retryAfterSeconds("admin", "10.0.0.9", T0)).toBe(1);
    expect(t.retryAfterSeconds("admin", "10.0.0.7", T0)).toBe(0);
  });
});

describe("clientAddress", () => {
  test.each([
    ["no proxy trusted: the header is ignored", "10.0.0.1", "6.6.6.6", 0, "10.0.0.1"],
    ["one proxy: the entry it appended", "10.0.0.1", "6.6.6.6, 203.0.113.5", 1, "203.0.113.5"],
    ["two proxies", "10.0.0.1", "6.6.6.6, 203.0.113.5, 10.0.0.2", 2, "203.0.113.5"],
    ["fewer entries than hops: the first", "10.0.0.1", "203.0.113.5", 3, "203.0.113.5"],
    ["trusted but absent: the peer", "10.0.0.1", null, 1, "10.0.0.1"],
    ["no peer known", null, null, 0, "unknown"],
  ] as const)("%s", (_n, peer, header, hops, want) => {
    expect(clientAddress(peer, header, hops)).toBe(want);
  });
});
