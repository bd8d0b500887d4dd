/**
 * A clock for tests: time stands still until the test moves it, and timers fire only then, in time order.
 * Pass it to the SchedulerLoop (`clock`) instead of waiting for real timers.
 *
 * @example const clock = new FakeClock("2026-01-01T00:00:00Z"); clock.advance(30_000); await loop.idle();
 */
import type { Clock, TimerHandle } from "../../src/scheduler";

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start: Date | string = "2026-01-01T00:00:00Z") {
    this.t = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.t);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /**
   * Moves time forward by `ms`, stopping at each timer due on the way (earliest first, then in the order
   * they were set) so a timer sees the time it was set for. Returns how many fired. `advance(0)` fires
   * the timers already due.
   */
  advance(ms: number): number {
    const until = this.t + ms;
    let fired = 0;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const entry of this.timers) if (entry[1].at <= until && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      fired++;
    }
    this.t = until;
    return fired;
  }

  /** When the earliest pending timer is due (epoch ms), or null when none is pending. */
  nextTimerAt(): number | null {
    let next: number | null = null;
    for (const { at } of this.timers.values()) if (next === null || at < next) next = at;
    return next;
  }
}
