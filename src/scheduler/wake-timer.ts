/**
 * When the loop wakes on its own: the periodic sweep (the backstop for lost wake-ups) and timed wake-ups
 * (a retry delay, a dispatch backoff, a run timeout, the next cron slot). Many timed wake-ups share one
 * timer, armed for the earliest. Time and timers come from the injected Clock.
 */
import type { Clock, TimerHandle } from "./clock";

/** What the loop is asked to do: sweep the active runs, plan just these runs, or create the runs a cron slot is due for. */
export type WakeRequest = { kind: "sweep" } | { kind: "runs"; ids: readonly number[] } | { kind: "create" };

export const SWEEP: WakeRequest = { kind: "sweep" };

export class WakeTimer {
  private running = false;
  private sweepTimer: TimerHandle | null = null;
  /** When each run wants planning again (epoch ms), and when the next cron slot is due. */
  private readonly runsAt = new Map<number, number>();
  private createAt: number | null = null;
  private timer: { at: number; handle: TimerHandle } | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly sweepIntervalMs: number,
    private readonly onWake: (request: WakeRequest) => void,
  ) {}

  /** Starts the periodic sweep and the timer for wake-ups asked for while stopped. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleSweep();
    this.rearm();
  }

  /** Stops every timer and forgets pending wake-ups: they belong to this term (a leftover entry would keep
   * arm() from arming a timer after the next start). */
  stop(): void {
    this.running = false;
    if (this.sweepTimer !== null) this.clock.clearTimeout(this.sweepTimer);
    if (this.timer) this.clock.clearTimeout(this.timer.handle);
    this.sweepTimer = this.timer = null;
    this.runsAt.clear();
    this.createAt = null;
  }

  /** Plans run `runId` again at `at` (epoch ms), unless an earlier wake-up for it is already pending. */
  armRun(runId: number, at: number): void {
    const known = this.runsAt.get(runId);
    if (known !== undefined && known <= at) return;
    this.runsAt.set(runId, at);
    this.armFor(at);
  }

  /** Asks for the due runs to be created at `at` (epoch ms, the next cron slot), unless an earlier ask is pending. */
  armCreate(at: number): void {
    if (this.createAt !== null && this.createAt <= at) return;
    this.createAt = at;
    this.armFor(at);
  }

  /** Runs whose wake-up is due by `now`, even if the timer has not fired yet (a sweep must never be later
   * than the timer it backs up). They stay pending: the timer still fires for them. */
  dueRuns(now: number): number[] {
    const due: number[] = [];
    for (const [id, at] of this.runsAt) if (at <= now) due.push(id);
    return due;
  }

  private scheduleSweep(): void {
    this.sweepTimer = this.clock.setTimeout(() => {
      if (!this.running) return;
      this.scheduleSweep();
      this.onWake(SWEEP);
    }, this.sweepIntervalMs);
  }

  private armFor(at: number): void {
    if (!this.running || (this.timer && this.timer.at <= at)) return;
    if (this.timer) this.clock.clearTimeout(this.timer.handle);
    this.timer = { at, handle: this.clock.setTimeout(() => this.fire(), at - this.clock.now().getTime()) };
  }

  private fire(): void {
    this.timer = null;
    const now = this.clock.now().getTime();
    const ids: number[] = [];
    for (const [id, at] of this.runsAt) if (at <= now) ids.push(id), this.runsAt.delete(id);
    const create = this.createAt !== null && this.createAt <= now;
    if (create) this.createAt = null;
    this.rearm();
    // The slot first: creating its runs must not wait behind the planning these wake-ups start.
    if (create) this.onWake({ kind: "create" });
    if (ids.length) this.onWake({ kind: "runs", ids });
  }

  /** Arms the one timer for the earliest pending wake-up, if any. */
  private rearm(): void {
    let next = this.createAt ?? Infinity;
    for (const at of this.runsAt.values()) next = Math.min(next, at);
    if (next !== Infinity) this.armFor(next);
  }
}
