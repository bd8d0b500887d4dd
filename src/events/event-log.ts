/**
 * EventLog: the sink producers emit into on a server. It appends events to the store's event log in batches,
 * off the caller's path: `emit` only pushes onto an array, and one append at a time runs in the background.
 * While an append is in flight new events wait for the next one, so batches grow with load (one multi-row
 * INSERT per batch) and an idle server appends each event within a turn. A failed append is logged, counted
 * and retried with backoff; `emit` never throws and never waits, whatever the database does.
 *
 * @example
 * const log = new EventLog({ append: (e, now) => store.appendEvents(e, now), onAppended: (id) => feed.poke(id) });
 * log.emit({ type: "dag_run.created", dag_id: "etl", run_id: "r1", state: "queued" });
 */
import type { EventLogStore } from "../store";
import type { EventHistory, EventSink, LeoflowEvent, NewEvent } from "./types";

/** Rows per INSERT: a burst of thousands goes out as a few statements of bounded size. */
export const EVENT_APPEND_BATCH = 500;
/** Events held while the database refuses appends; beyond it the oldest are dropped (and counted). */
export const EVENT_MAX_PENDING = 50_000;

export interface EventLogOptions {
  /** Appends in order and returns the ids given (store.appendEvents). */
  append(events: Record<string, unknown>[], now: Date): Promise<number[]>;
  /** After each committed batch, with its newest id: the local feed and the other replicas' notification. */
  onAppended?(lastId: number): void;
  /** A failed append (it is retried; `dropped` events are gone for good). */
  onError?(error: unknown, info: { batch: number; dropped: number }): void;
  now?: () => Date;
  batchSize?: number;
  maxPending?: number;
  /** Wait before retrying after `failures` failed appends in a row. */
  retryDelayMs?(failures: number): number;
}

export class EventLog implements EventSink {
  /** Emitted on this process, appended to the log, and lost (the database refused them too long). */
  emitted = 0;
  appended = 0;
  lost = 0;
  /** Appends that failed (each is retried). */
  failures = 0;
  private pending: Record<string, unknown>[] = [];
  private running: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failuresInARow = 0;
  private closed = false;

  constructor(private readonly opts: EventLogOptions) {}

  emit(event: NewEvent): void {
    this.emitted++;
    if (this.closed) return void this.lost++;
    this.pending.push({ ...event, time: event.time ?? (this.opts.now?.() ?? new Date()).toISOString() });
    if (this.pending.length > (this.opts.maxPending ?? EVENT_MAX_PENDING)) {
      this.pending.shift();
      this.lost++;
    }
    if (!this.running && !this.timer) this.running = this.drain();
  }

  /** Events waiting for an append. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Appends everything emitted so far (one try per batch), then refuses new events. For shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    while (this.pending.length && (await this.appendOne())) {}
    this.lost += this.pending.length;
    this.pending = [];
  }

  /** Waits for everything emitted so far to be appended (or to have failed once). For tests and benchmarks. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    // A turn's worth of emits joins the first batch.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.pending.length && !this.closed) {
        if (await this.appendOne()) continue;
        const delay = this.opts.retryDelayMs?.(this.failuresInARow) ?? Math.min(5000, 50 * 2 ** this.failuresInARow);
        this.timer = setTimeout(() => {
          this.timer = null;
          if (!this.running) this.running = this.drain();
        }, delay);
        this.timer.unref?.();
        return;
      }
    } finally {
      this.running = null;
    }
  }

  /** One batch; false when the append failed (the batch is back at the front of the queue). */
  private async appendOne(): Promise<boolean> {
    const batch = this.pending.splice(0, this.opts.batchSize ?? EVENT_APPEND_BATCH);
    try {
      const ids = await this.opts.append(batch, this.opts.now?.() ?? new Date());
      this.appended += batch.length;
      this.failuresInARow = 0;
      if (ids.length) this.opts.onAppended?.(ids[ids.length - 1]!);
      return true;
    } catch (e) {
      this.failures++;
      this.failuresInARow++;
      this.pending.unshift(...batch);
      const over = this.pending.length - (this.opts.maxPending ?? EVENT_MAX_PENDING);
      const dropped = over > 0 ? this.pending.splice(0, over).length : 0;
      this.lost += dropped;
      this.opts.onError?.(e, { batch: batch.length, dropped });
      return false;
    }
  }
}

/** The store's event log as a stream's history: rows become events carrying the log's id. */
export function storeEventHistory(store: Pick<EventLogStore, "readEventsAfter" | "lastEventId">): EventHistory {
  return {
    async readAfter(afterId, limit) {
      return (await store.readEventsAfter(afterId, limit)).map((r) => ({ ...r.event, id: r.id }) as LeoflowEvent);
    },
    lastId: () => store.lastEventId(),
  };
}
