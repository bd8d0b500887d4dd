/**
 * The time and the timers the scheduler loop runs on. Injected so tests move time by hand (a fake clock
 * in test/support/clock.ts) instead of waiting for real timers.
 */

/** What a timer returned by Clock.setTimeout is: opaque, only handed back to clearTimeout. */
export type TimerHandle = unknown;

export interface Clock {
  now(): Date;
  /** Calls `fn` once, `ms` from now (0 or less: as soon as possible). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The longest delay a runtime timer takes (2^31 - 1 ms, ~24.8 days): a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The wall clock and the runtime's timers; a wake-up further off than a timer can wait fires early, and is re-armed. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(MAX_TIMER_MS, Math.max(0, ms))),
  clearTimeout: (handle) => clearTimeout(handle as Timer),
};
