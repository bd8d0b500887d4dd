/**
 * Retry backoff for agent calls: 1, 2, 4, 8, 16 s for attempts 1..5, then give up. Long enough to ride out
 * a control-plane restart (~31 s in all), short enough that a lost control plane does not hang a task forever.
 * No jitter: one agent per task instance retries, so there is no herd to spread.
 *
 * @example backoff(3) // { delayMs: 4000, ok: true }; backoff(6) // { delayMs: 0, ok: false }
 */
export const MAX_ATTEMPTS = 5;

export function backoff(attempt: number): { delayMs: number; ok: boolean } {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > MAX_ATTEMPTS) return { delayMs: 0, ok: false };
  return { delayMs: 1000 * 2 ** (attempt - 1), ok: true };
}
