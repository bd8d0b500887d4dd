/**
 * Slowing password guessing at POST /auth/token. The policy, decided once:
 *
 * - Failures are counted per (username, client address) and per client address alone. A key's count
 *   is forgotten after 15 minutes without a failure.
 * - The 5th failure of a user at one address (the 20th of an address over every username: password
 *   spraying) locks that key for 1 s; each further failure doubles it (2 s, 4 s, …), capped at 5 minutes.
 *   A locked key's logins are refused with 429 and Retry-After, without checking the password.
 * - A successful login clears its (username, address) count. The address count is not cleared, so an
 *   attacker cannot reset it with an account of their own; it decays with the window instead.
 * - No lockout is per username alone: an attacker elsewhere must never lock the real user out. The real
 *   user is affected only at the attacker's own address (a shared NAT), and for at most 5 minutes.
 * - The client address is the socket's peer. X-Forwarded-For counts only with --trusted-proxy-hops N
 *   (N reverse proxies in front append to it); otherwise anyone could claim any address. Behind a load
 *   balancer without it, every client shares the balancer's address and its 20-failure limit.
 * - State lives in the memory of each server process: a restart forgets it, and Pro replicas do not
 *   share it, so behind a balancer spreading logins over N replicas an attacker gets up to N times the
 *   allowance. Good enough to turn millions of guesses a day into hundreds; not an account lockout.
 *
 * @example
 * const t = new LoginThrottle();
 * t.retryAfterSeconds("admin", "10.0.0.7", now); // 0: go ahead and check the password
 * t.failed("admin", "10.0.0.7", now);            // after the 5th: 1 s, then 2 s, … up to 300 s
 */

export interface ThrottlePolicy {
  /** Failures tolerated before the first lockout. */
  freeFailures: number;
  /** A key's failures are forgotten after this long without one. */
  windowMs: number;
  /** The first lockout; each further failure doubles it. */
  baseLockMs: number;
  /** The longest lockout. */
  maxLockMs: number;
}

export const USER_AT_ADDRESS_POLICY: ThrottlePolicy = { freeFailures: 5, windowMs: 15 * 60_000, baseLockMs: 1000, maxLockMs: 5 * 60_000 };
export const ADDRESS_POLICY: ThrottlePolicy = { freeFailures: 20, windowMs: 15 * 60_000, baseLockMs: 1000, maxLockMs: 5 * 60_000 };

export interface FailureCount {
  failures: number;
  lastFailureMs: number;
  lockedUntilMs: number;
}

/** The count after one more failure at `nowMs` (pure). */
export function afterFailure(prev: FailureCount | undefined, nowMs: number, policy: ThrottlePolicy): FailureCount {
  const fresh = !prev || nowMs - prev.lastFailureMs > policy.windowMs;
  const failures = (fresh ? 0 : prev.failures) + 1;
  const over = failures - policy.freeFailures; // 0 at the last free failure: the first lockout
  const lockMs = over < 0 ? 0 : Math.min(policy.baseLockMs * 2 ** Math.min(over, 30), policy.maxLockMs);
  return { failures, lastFailureMs: nowMs, lockedUntilMs: lockMs ? nowMs + lockMs : 0 };
}

/** Milliseconds until a login under this count may be tried; 0 when it may be tried now (pure). */
export function lockRemainingMs(count: FailureCount | undefined, nowMs: number): number {
  return count ? Math.max(0, count.lockedUntilMs - nowMs) : 0;
}

/** Whether a count can be dropped: no lockout left and its window has passed (pure). */
export function isForgotten(count: FailureCount, nowMs: number, policy: ThrottlePolicy): boolean {
  return lockRemainingMs(count, nowMs) === 0 && nowMs - count.lastFailureMs > policy.windowMs;
}

/**
 * The client's address: the socket peer, or with `trustedHops` proxies in front the address that many
 * entries from the right of X-Forwarded-For (what the outermost trusted proxy saw), pure.
 */
export function clientAddress(peer: string | null, forwardedFor: string | null | undefined, trustedHops: number): string {
  const direct = peer ?? "unknown";
  if (trustedHops <= 0 || !forwardedFor) return direct;
  const hops = forwardedFor
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (hops.length === 0) return direct;
  return hops[Math.max(0, hops.length - trustedHops)]!;
}

/** Keys kept at most; beyond it, forgotten keys go first, then the oldest. */
const MAX_KEYS = 10_000;

/** The in-memory counts of one server process, checked and updated with an explicit `now`. */
export class LoginThrottle {
  private readonly counts = new Map<string, FailureCount>();

  constructor(
    private readonly pairPolicy: ThrottlePolicy = USER_AT_ADDRESS_POLICY,
    private readonly addressPolicy: ThrottlePolicy = ADDRESS_POLICY,
  ) {}

  /** Whole seconds to wait before `username` may try from `address` (0 = now). */
  retryAfterSeconds(username: string, address: string, now: Date): number {
    const t = now.getTime();
    const ms = Math.max(
      lockRemainingMs(this.counts.get(pairKey(username, address)), t),
      lockRemainingMs(this.counts.get(addressKey(address)), t),
    );
    return Math.ceil(ms / 1000);
  }

  failed(username: string, address: string, now: Date): void {
    const t = now.getTime();
    this.bump(pairKey(username, address), t, this.pairPolicy);
    this.bump(addressKey(address), t, this.addressPolicy);
    if (this.counts.size > MAX_KEYS) this.prune(t);
  }

  succeeded(username: string, address: string): void {
    this.counts.delete(pairKey(username, address));
  }

  private bump(key: string, t: number, policy: ThrottlePolicy): void {
    const next = afterFailure(this.counts.get(key), t, policy);
    this.counts.delete(key); // re-inserted last: Map order is then oldest-failure first
    this.counts.set(key, next);
  }

  private prune(t: number): void {
    for (const [key, count] of this.counts)
      if (isForgotten(count, t, key.startsWith("a:") ? this.addressPolicy : this.pairPolicy)) this.counts.delete(key);
    for (const key of this.counts.keys()) {
      if (this.counts.size <= MAX_KEYS) break;
      this.counts.delete(key);
    }
  }
}

const pairKey = (username: string, address: string) => `u:${JSON.stringify([username, address])}`;
const addressKey = (address: string) => `a:${address}`;
