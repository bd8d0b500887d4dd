/**
 * Retry backoff for agent calls: 1, 2, 4, 8, 16 s, then every 30 s, for 14 attempts (~5 minutes in all), then
 * give up. Long enough to ride out a control-plane restart or upgrade (a task that ends meanwhile still gets its
 * report, XCom and last lines in: the server's reapers give its tries a full agent_lost threshold after they
 * start, reapers.ts), short enough that a control plane gone for good does not hang an agent forever.
 * No jitter: one agent per task instance retries, so there is no herd to spread.
 *
 * @example backoff(3) // { delayMs: 4000, ok: true }; backoff(9) // { delayMs: 30000, ok: true }; backoff(15) // { ok: false }
 */
export const MAX_ATTEMPTS = 14;
const MAX_DELAY_MS = 30_000;

export function backoff(attempt: number): { delayMs: number; ok: boolean } {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > MAX_ATTEMPTS) return { delayMs: 0, ok: false };
  return { delayMs: Math.min(1000 * 2 ** (attempt - 1), MAX_DELAY_MS), ok: true };
}
