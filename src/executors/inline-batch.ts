/**
 * WriteBatcher: coalesces the inline runner's one-task writes (starts and outcomes, XComs, log lines) into
 * batches, the way job queues complete jobs: the writes asked for in the same turn, or while the previous
 * batch was in flight, go to the store as one call (one multi-row statement, one commit) instead of one
 * each. With 32 tasks finishing at once, that is a handful of commits instead of a hundred. Each caller
 * still gets its own answer: its item's result, or the batch's error (a store that refused the batch
 * refused every write in it; each caller's own retry or report then goes on).
 *
 * `inFlight` batches may be on their way at once (default 1): a write that arrives while they all are waits
 * for the next to finish. More than one pays where the store pipelines them (Postgres, on one connection:
 * the next batch is sent while the previous executes, instead of after its answer came back).
 *
 * @example
 * const transitions = new TransitionBatcher((ts, now) => store.applyTransitions(ts, now));
 * const applied = await transitions.apply({ id, from: ["running"], to: "success", try_number }, now);
 */
import type { TaskTransition } from "../domain";

type Pending<I, O> = { item: I; now: Date; resolve: (result: O) => void; reject: (e: unknown) => void };

export class WriteBatcher<I, O> {
  private pending: Pending<I, O>[] = [];
  /** Drains running: each writes batches one after another until nothing is pending. */
  private lanes = 0;
  /** A drain started and waiting for its turn of the event loop: it takes whatever is pending by then. */
  private starting = false;
  private readonly inFlight: number;
  private readonly alone: (() => boolean) | undefined;
  /** Batches written so far and the items in them (tests and metrics). */
  readonly stats = { batches: 0, items: 0 };

  /**
   * `write` answers one result per item, in order. `alone`: true when no other write can be asked for before
   * this one goes out (the inline runner's only running try ending), so the batch does not wait for the turn.
   */
  constructor(
    private readonly write: (items: I[], now: Date) => Promise<O[]>,
    opts: { inFlight?: number; alone?: () => boolean } = {},
  ) {
    this.inFlight = Math.max(1, opts.inFlight ?? 1);
    this.alone = opts.alone;
  }

  /** Resolves with `item`'s result; rejects with the error of the batch it went out in. */
  apply(item: I, now: Date): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, now, resolve, reject });
      if (!this.starting && this.lanes < this.inFlight) {
        this.lanes++;
        this.starting = true;
        void this.drain();
      }
    });
  }

  /** Several items that must go out in the same batch, in this order: their results, in order. */
  applyAll(items: readonly I[], now: Date): Promise<O[]> {
    // Queued in one turn, so no drain can take some of them without the rest.
    return Promise.all(items.map((item) => this.apply(item, now)));
  }

  private async drain(): Promise<void> {
    // One turn of the event loop: callers of the same turn share a batch, and so do the callbacks the loop
    // runs in one pass (the responses of many requests arriving together), not just one callback's callers.
    // A microtask here made every inline task's end its own SQLite commit in a fan-out: ~23 pages written per task.
    // A lone write (a chain's hop: nothing else is running) waits for no one: a microtask, so that a caller's
    // several writes (applyAll) still go out together.
    if (this.alone?.()) await null;
    else await new Promise((r) => setImmediate(r));
    this.starting = false;
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        // The batch's time: its latest (each item carries its own times where they matter).
        const now = new Date(batch.reduce((t, p) => Math.max(t, p.now.getTime()), 0));
        this.stats.batches++;
        this.stats.items += batch.length;
        try {
          const results = await this.write(
            batch.map((p) => p.item),
            now,
          );
          for (const [i, p] of batch.entries()) p.resolve(results[i] as O);
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.lanes--;
    }
  }
}

/** State writes: each caller learns whether its transition applied (a missing answer counts as not applied). */
export class TransitionBatcher extends WriteBatcher<TaskTransition, boolean> {
  constructor(write: (transitions: TaskTransition[], now: Date) => Promise<boolean[]>) {
    super(async (ts, now) => {
      const applied = await write(ts, now);
      return ts.map((_, i) => applied[i] === true);
    });
  }
}
