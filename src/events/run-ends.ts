/**
 * RunEnds: in-process word that a run ended, for whoever waits on it here (GET …/dagRuns/{id}/wait). The store's
 * event wrapper calls ended() after every write that moves a run to a terminal state on this process; a waiter
 * wakes then instead of at its next interval. A run ended by another replica (Pro) is not told: its waiters see
 * it at their next interval, as before.
 *
 * @example
 * const runEnds = new RunEnds();
 * const store = withStoreEvents(raw, log, onError, observe, runEnds);
 * await runEnds.wait(run.id, 5_000); // ≤ 5 s, or as soon as this process writes the run's end
 */
export class RunEnds {
  private readonly waiting = new Map<number, Set<() => void>>();

  /** Resolves after `ms`, or as soon as this process writes run `id`'s end, whichever comes first. */
  wait(id: number, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let waiters = this.waiting.get(id);
      if (!waiters) this.waiting.set(id, (waiters = new Set()));
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (!waiters.size && this.waiting.get(id) === waiters) this.waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  /** Run `id` ended: every waiter on it wakes now. */
  ended(id: number): void {
    for (const done of [...(this.waiting.get(id) ?? [])]) done();
  }

  /** Runs with a waiter (tests, diagnostics). */
  get watched(): number {
    return this.waiting.size;
  }
}
