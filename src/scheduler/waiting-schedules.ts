/**
 * WaitingSchedules: the moves into scheduled of the task instances a tick leaves waiting for a slot, written
 * in the refill queue's order and in chunks (dispatch-step.ts). A refill takes only a task instance the store
 * holds as scheduled, so the first chunk goes out before the tick's inline starts and the rest after them,
 * with a turn of the event loop between chunks: the slots the first ends free go to the queue's head at once
 * instead of waiting for one write of every waiting row (9,968 in a first sweep: ~130 ms on Postgres, traced)
 * and then for more ticks, the queue having been dropped at the first end.
 */
import type { TaskTransition } from "../domain";

/** Rows per write while a refill may be waiting for them. */
export const WAITING_SCHEDULES_CHUNK = 512;

export class WaitingSchedules {
  private pending: TaskTransition[] = [];
  private readonly inFlight = new Set<number>();

  /** Whether the task instance's schedule is taken and not yet written. */
  has(id: number): boolean {
    return this.inFlight.has(id);
  }

  /**
   * Takes out of `unwritten` the schedules of the task instances `waiting` says are left waiting, `first` (the
   * refill queue's order) before the rest.
   */
  take(unwritten: Map<number, TaskTransition>, first: Iterable<number>, waiting: (id: number) => boolean): void {
    const take = (id: number) => {
      const t = unwritten.get(id);
      if (!t || !waiting(id)) return;
      this.pending.push(t);
      unwritten.delete(id);
      this.inFlight.add(id);
    };
    for (const id of first) take(id);
    for (const id of [...unwritten.keys()]) take(id);
  }

  /**
   * Writes up to `limit` of the taken schedules, `chunk` rows a write with a turn of the event loop between;
   * `written` learns per row whether it applied. A write that throws leaves the rest taken: abandon() them.
   */
  async write(
    apply: (ts: TaskTransition[]) => Promise<boolean[]>,
    written: (t: TaskTransition, applied: boolean) => void,
    limit: number,
    chunk: number,
  ): Promise<void> {
    let done = 0;
    while (this.pending.length && done < limit) {
      if (done) await new Promise((r) => setImmediate(r));
      const batch = this.pending.splice(0, Math.min(chunk, limit - done));
      done += batch.length;
      const applied = await apply(batch);
      batch.forEach((t, i) => {
        this.inFlight.delete(t.id);
        written(t, applied[i] === true);
      });
    }
  }

  /** Forgets the schedules taken and not written; answers their task instances' ids. */
  abandon(): number[] {
    const ids = [...this.inFlight];
    this.inFlight.clear();
    this.pending = [];
    return ids;
  }
}
