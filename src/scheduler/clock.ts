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

/** The wall clock and the runtime's timers. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as Timer),
};
