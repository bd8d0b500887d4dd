/**
 * EventHub: non-blocking fan-out of lifecycle events. `emit` stamps the event and copies it into each
 * subscriber's bounded buffer, synchronously and in O(subscribers): the scheduler never waits for a
 * reader. A subscriber whose buffer is full loses the new event, and the loss is counted (per subscriber
 * and in total) so a slow SSE client is visible instead of slowing everyone down.
 *
 * @example
 * const hub = new EventHub();
 * const sub = hub.subscribe({ filter: (e) => e.dag_id === "etl" });
 * hub.emit({ type: "dag_run.created", dag_id: "etl", run_id: "r1", state: "queued" });
 * const e = await sub.next(); // the event, or null once the subscription is closed
 */
import type { EventHistory, EventSink, LeoflowEvent, NewEvent } from "./types";

export const DEFAULT_SUBSCRIBER_BUFFER = 1024;

export interface SubscribeOptions {
  /** Events held for a reader that is behind; beyond it new events are dropped (default 1024). */
  bufferSize?: number;
  filter?: (event: LeoflowEvent) => boolean;
}

export class Subscription implements AsyncIterable<LeoflowEvent> {
  private readonly buffer: LeoflowEvent[] = [];
  private waiter: ((e: LeoflowEvent | null) => void) | null = null;
  private closed = false;
  /** Events this subscriber lost because its buffer was full. */
  dropped = 0;

  constructor(
    private readonly bufferSize: number,
    private readonly filter: ((e: LeoflowEvent) => boolean) | undefined,
    private readonly onClose: (s: Subscription) => void,
  ) {}

  /** Called by the hub. Returns false when the event was dropped. */
  offer(event: LeoflowEvent): boolean {
    if (this.closed) return true;
    if (this.filter && !safe(() => this.filter!(event))) return true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(event);
      return true;
    }
    if (this.buffer.length >= this.bufferSize) {
      this.dropped++;
      return false;
    }
    this.buffer.push(event);
    return true;
  }

  /** The next event, waiting for one if none is buffered; null once closed. */
  next(): Promise<LeoflowEvent | null> {
    const e = this.buffer.shift();
    if (e) return Promise.resolve(e);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The next event if one is buffered, without waiting. */
  poll(): LeoflowEvent | undefined {
    return this.buffer.shift();
  }

  get pending(): number {
    return this.buffer.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer.length = 0;
    this.waiter?.(null);
    this.waiter = null;
    this.onClose(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LeoflowEvent> {
    for (;;) {
      const e = await this.next();
      if (!e) return;
      yield e;
    }
  }
}

export class EventHub implements EventSink {
  private readonly subs = new Set<Subscription>();
  private seq = 0;
  /** Events emitted since start, and events lost by slow subscribers (summed over subscribers). */
  emitted = 0;
  dropped = 0;
  /**
   * The event log streams replay from (Last-Event-ID, and a slow client catching up); set by the server,
   * whose events then reach the hub through `publish` with the log's ids. Absent: live only, local ids.
   */
  history?: EventHistory;

  constructor(private readonly now: () => Date = () => new Date()) {}

  emit(event: NewEvent): void {
    this.emitted++;
    if (!this.subs.size) return;
    this.publish({ ...event, id: ++this.seq, time: event.time ?? this.now().toISOString() } as LeoflowEvent);
  }

  /** Hands an event that already has its id (read from the log, in id order) to every subscriber. */
  publish(event: LeoflowEvent): void {
    for (const s of this.subs) if (!s.offer(event)) this.dropped++;
  }

  get wanted(): boolean {
    return this.subs.size > 0;
  }

  subscribe(opts: SubscribeOptions = {}): Subscription {
    const sub = new Subscription(Math.max(1, opts.bufferSize ?? DEFAULT_SUBSCRIBER_BUFFER), opts.filter, (s) => this.subs.delete(s));
    this.subs.add(sub);
    return sub;
  }

  /** Producers may skip building events (and lookups for their names) when nobody listens. */
  get subscriberCount(): number {
    return this.subs.size;
  }
}

function safe(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}
