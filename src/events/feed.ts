/**
 * EventFeed: brings the event log to this process's hub. It reads rows after the last id it has seen, in id
 * order, and publishes them with the log's ids. Whatever pokes it (this process's own append, another
 * replica's NOTIFY, a reconnect, a periodic poll) only says "there may be more": a coalesced or lost
 * notification costs latency, never an event, because the next read starts from the cursor.
 *
 * With no local stream listening, it does not read rows: it only moves its cursor to the newest id, so
 * the first stream to open does not get a backlog of old events (streams replay what they ask for).
 *
 * @example
 * const feed = new EventFeed({ history, publish: (e) => hub.publish(e), listening: () => hub.wanted });
 * await feed.start();
 * feed.poke(lastId);
 */
import type { EventHistory, LeoflowEvent } from "./types";

export const FEED_PAGE = 500;

export interface EventFeedOptions {
  history: EventHistory;
  publish(event: LeoflowEvent): void;
  /** True while some local stream subscribes. */
  listening(): boolean;
  onError?(error: unknown): void;
  pageSize?: number;
}

export class EventFeed {
  /** The newest id this process has published (or skipped, with no one listening). */
  cursor = 0;
  /** The newest id known to be committed (from notifications); lets an idle feed skip its query. */
  private known = 0;
  private reading: Promise<void> | null = null;
  private again = false;

  constructor(private readonly opts: EventFeedOptions) {}

  /** Starts at the log's newest id: streams go live from now, and replay what they ask for. */
  async start(): Promise<void> {
    this.cursor = Math.max(this.cursor, await this.opts.history.lastId());
  }

  /** There may be rows after the cursor (`upTo`: a committed id, when known). Never throws, never waits. */
  poke(upTo?: number): void {
    if (upTo !== undefined && upTo > this.known) this.known = upTo;
    if (this.reading) this.again = true;
    else this.reading = this.run();
  }

  /** Resolves once no read is in flight (tests). */
  async idle(): Promise<void> {
    while (this.reading) await this.reading;
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.catchUp();
      } while (this.again);
    } catch (e) {
      this.opts.onError?.(e);
    } finally {
      this.reading = null;
    }
  }

  private async catchUp(): Promise<void> {
    // Checked at the moment of deciding: a stream that subscribes after this point starts at an id at least
    // as new as `top`, so skipping to it cannot hide an event from that stream.
    if (!this.opts.listening()) {
      const top = this.known > this.cursor ? this.known : await this.opts.history.lastId();
      if (!this.opts.listening()) return void (this.cursor = Math.max(this.cursor, top));
    }
    const limit = this.opts.pageSize ?? FEED_PAGE;
    for (;;) {
      const page = await this.opts.history.readAfter(this.cursor, limit);
      for (const e of page) {
        if (e.id <= this.cursor) continue;
        this.cursor = e.id;
        this.opts.publish(e);
      }
      if (page.length < limit) return;
    }
  }
}
