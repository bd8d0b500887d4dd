/**
 * TransitionBatcher: coalesces the inline runner's one-row state writes (starts, outcomes) into batches, the
 * way job queues complete jobs: the writes asked for in the same turn, or while the previous batch was in
 * flight, go to the store as one applyTransitions (one multi-row UPDATE on Postgres) instead of one
 * statement each. Each caller still gets its own answer: whether its transition applied, or the batch's error
 * (a store that refused the batch refused every write in it; each caller's own retry then goes on).
 *
 * @example
 * const batcher = new TransitionBatcher((ts, now) => store.applyTransitions(ts, now));
 * const applied = await batcher.apply({ id, from: ["running"], to: "success", try_number }, now);
 */
import type { TaskTransition } from "../domain";

type Pending = { transition: TaskTransition; now: Date; resolve: (applied: boolean) => void; reject: (e: unknown) => void };

export class TransitionBatcher {
  private pending: Pending[] = [];
  private draining = false;
  /** Batches written so far and the transitions in them (tests and metrics). */
  readonly stats = { batches: 0, transitions: 0 };

  constructor(private readonly write: (transitions: TaskTransition[], now: Date) => Promise<boolean[]>) {}

  /** Resolves with whether `transition` applied; rejects with the error of the batch it went out in. */
  apply(transition: TaskTransition, now: Date): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ transition, now, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    // One microtask: callers started in the same turn (the scheduler starts a tick's tasks at once) share a batch.
    await Promise.resolve();
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        // updated_at of the batch: its latest time (each transition's own times are in its patch).
        const now = new Date(batch.reduce((t, p) => Math.max(t, p.now.getTime()), 0));
        this.stats.batches++;
        this.stats.transitions += batch.length;
        try {
          const applied = await this.write(
            batch.map((p) => p.transition),
            now,
          );
          for (const [i, p] of batch.entries()) p.resolve(applied[i] === true);
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
