/**
 * EventLog: the sink producers emit into on a server. It appends events to the store's event log in batches,
 * off the caller's path: `emit` only pushes onto an array, and one append at a time runs in the background.
 * While an append is in flight new events wait for the next one, and appends start at most every
 * EVENT_APPEND_SPACING_MS, so batches grow with load (one multi-row INSERT per batch); an idle server appends
 * each event within a turn. A failed append is logged, counted and retried with backoff; `emit` never throws
 * and never waits, whatever the database does.
 *
 * @example
 * const log = new EventLog({ append: (e, now) => store.appendEvents(e, now), onAppended: (id) => feed.poke(id) });
 * log.emit({ type: "dag_run.created", dag_id: "etl", run_id: "r1", state: "queued" });
 */
import type { EventLogStore } from "../store";
import type { EventHistory, EventSink, LeoflowEvent, NewEvent } from "./types";

/** Rows per INSERT: a burst of thousands goes out as a few statements of bounded size. */
export const EVENT_APPEND_BATCH = 500;
/**
 * Least time between the starts of two appends. A steady stream of events (a chain of inline tasks emits two
 * every few ms) then goes out as one append per spacing instead of one or two per task, each of which was a
 * commit competing with the scheduler's own statements for the database and this process: on the hop's path
 * with SQLite (a synchronous write), beside it on Postgres (+1–2 ms per inline hop, measured). An event after
 * a quiet spell is appended at once; one during a stream waits at most this long.
 */
export const EVENT_APPEND_SPACING_MS = 10;
/** Events held while the database refuses appends; beyond it the oldest are dropped (and counted). */
export const EVENT_MAX_PENDING = 50_000;

export interface EventLogOptions {
  /** Appends in order and returns the ids given (store.appendEvents). */
  append(events: Record<string, unknown>[], now: Date): Promise<number[]>;
  /**
   * After each committed batch, with its newest id (the local feed and the other replicas' notification) and
   * the batch's events with their ids (readers on this process, which then need not read them back).
   */
  onAppended?(lastId: number, appended: readonly AppendedEvent[]): void;
  /** A failed append (it is retried; `dropped` events are gone for good). */
  onError?(error: unknown, info: { batch: number; dropped: number }): void;
  now?: () => Date;
  batchSize?: number;
  maxPending?: number;
  /** Wait before retrying after `failures` failed appends in a row. */
  retryDelayMs?(failures: number): number;
  /** Least time between the starts of two appends (ms; default EVENT_APPEND_SPACING_MS). */
  appendSpacingMs?: number;
  /** Waits out the spacing; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** An event as the log stored it, with its id. */
export interface AppendedEvent {
  id: number;
  event: Record<string, unknown>;
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
  /** When the last append began (performance.now()); appends start at least appendSpacingMs apart. */
  private lastAppendAt = Number.NEGATIVE_INFINITY;
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
    await this.spacing();
    try {
      while (this.pending.length && !this.closed) {
        this.lastAppendAt = performance.now();
        if (await this.appendOne()) {
          if (this.pending.length) await this.spacing();
          continue;
        }
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

  /**
   * Waits out the spacing since the last append began (not when a full batch is waiting: a burst is not slowed
   * down), then one turn, so a turn's worth of emits joins the batch.
   */
  private async spacing(): Promise<void> {
    const full = this.pending.length >= (this.opts.batchSize ?? EVENT_APPEND_BATCH);
    const wait = full ? 0 : this.lastAppendAt + (this.opts.appendSpacingMs ?? EVENT_APPEND_SPACING_MS) - performance.now();
    if (wait > 0) await (this.opts.sleep ?? Bun.sleep)(wait);
    await new Promise<void>((r) => setImmediate(r));
  }

  /** One batch; false when the append failed (the batch is back at the front of the queue). */
  private async appendOne(): Promise<boolean> {
    const batch = this.pending.splice(0, this.opts.batchSize ?? EVENT_APPEND_BATCH);
    try {
      const ids = await this.opts.append(batch, this.opts.now?.() ?? new Date());
      this.appended += batch.length;
      this.failuresInARow = 0;
      if (ids.length)
        this.opts.onAppended?.(
          ids[ids.length - 1]!,
          batch.map((event, i) => ({ id: ids[i]!, event })),
        );
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
