/** Retry timing: how long a failed try waits in up_for_retry before the planner resets it for the next try. */
import type { TaskSpec } from "../domain";

/** Airflow's ceiling on an exponential delay (one day), so a long-failing task still retries daily. */
export const MAX_EXPONENTIAL_RETRY_DELAY_SECONDS = 24 * 60 * 60;

/**
 * Seconds to wait after try `tryNumber` failed before the next try may start.
 * Without backoff: `retry_delay`. With `retry_exponential_backoff`: `retry_delay * 2^(tryNumber-1)`
 * (try 1 waits retry_delay, try 2 twice that, …), capped at `max_retry_delay` when set and always at one
 * day (Airflow's ceiling). Unlike Airflow there is no jitter, so retry times are predictable and testable; spread
 * load with different retry_delay values instead.
 *
 * @example retryDelaySeconds({ ...task, retry_delay: 10, retry_exponential_backoff: true }, 3) // 40
 */
export function retryDelaySeconds(
  task: Pick<TaskSpec, "retry_delay" | "retry_exponential_backoff" | "max_retry_delay">,
  tryNumber: number,
): number {
  const base = Math.max(0, task.retry_delay);
  if (!task.retry_exponential_backoff) return base;
  const cap = Math.min(task.max_retry_delay ?? Infinity, MAX_EXPONENTIAL_RETRY_DELAY_SECONDS);
  // Clamp the exponent: 2^1024 is Infinity, and any exponent past ~60 is beyond every cap anyway.
  const exponent = Math.min(Math.max(tryNumber - 1, 0), 64);
  return Math.min(base * 2 ** exponent, cap);
}
