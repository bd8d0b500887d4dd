/**
 * Tells every replica that the event log has grown. PgEventNotifier sends the newest committed id over
 * Postgres LISTEN/NOTIFY (channel `leoflow_events`, per schema like the wake-up channel; payload
 * `<origin>:<id>`, so a replica ignores its own); each replica's
 * feed then reads the rows after its own cursor. The payload is only a hint: a burst is coalesced into one
 * NOTIFY, and a NOTIFY lost while a listening connection was down is made up for by a read on reconnect.
 *
 * @example
 * const n = new PgEventNotifier({ url, channel: channelFor(EVENTS_CHANNEL, schema), logger });
 * n.subscribe((upTo) => feed.poke(upTo));
 * await n.start();
 * n.notify(42); // after the append of id 42 committed
 */
// crypto.getRandomValues, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server
// ~5 ms of every start (test/architecture/startup-graph.test.ts).
import type { Logger } from "../observability";
import { PgNotifyChannel, type NotifyChannel } from "../store";
import { toError } from "../domain";

export const EVENTS_CHANNEL = "leoflow_events";

/** `upTo`: a committed id; absent: something may have been missed (reconnect), read from the cursor. */
export type EventLogHandler = (upTo?: number) => void;

export interface EventNotifier {
  /** After an append committed. Never throws, never waits. */
  notify(lastId: number): void;
  subscribe(handler: EventLogHandler): void;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Lite: one process, and the feed is poked directly after each append. */
export class LocalEventNotifier implements EventNotifier {
  private handler: EventLogHandler = () => {};
  notify(lastId: number): void {
    this.handler(lastId);
  }
  subscribe(handler: EventLogHandler): void {
    this.handler = handler;
  }
  async start(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * Parses a payload `<origin>:<id>`: null when this replica sent it (its feed was poked at the append),
 * else the id, or undefined when malformed (read from the cursor anyway). Pure.
 */
export function parseEventsPayload(payload: string, self: string): { upTo?: number } | null {
  const sep = payload.indexOf(":");
  if (sep >= 0 && payload.slice(0, sep) === self) return null;
  const body = payload.slice(sep + 1);
  const id = Number(body);
  return /^\d+$/.test(body) && Number.isSafeInteger(id) && id > 0 ? { upTo: id } : {};
}

export interface PgEventNotifierOptions {
  url: string;
  channel: string;
  logger: Logger;
}

export class PgEventNotifier implements EventNotifier {
  private handler: EventLogHandler = () => {};
  private readonly channel: NotifyChannel;
  private readonly origin = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex");
  private pendingId = 0;
  private flushing = false;
  private closed = false;
  private lastErrorLogAt = 0;

  constructor(private readonly opts: PgEventNotifierOptions) {
    // Its own small client, so a NOTIFY never waits behind store queries; LISTEN gets a dedicated connection.
    this.channel = new PgNotifyChannel({ url: opts.url, channel: opts.channel, applicationName: "leoflow-events" });
  }

  subscribe(handler: EventLogHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    await this.channel.listen(
      (payload) => {
        const parsed = parseEventsPayload(payload, this.origin);
        if (parsed) this.handler(parsed.upTo);
      },
      // Every (re)connect: notifications sent while the session was down are lost, so read from the cursor.
      () => this.handler(),
    );
  }

  notify(lastId: number): void {
    if (this.closed) return;
    if (lastId > this.pendingId) this.pendingId = lastId;
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.channel.close();
  }

  private async flush(): Promise<void> {
    const id = this.pendingId;
    this.pendingId = 0;
    try {
      // Only the newest id: every id below it is committed too (appends are serialized).
      await this.channel.notify([`${this.origin}:${id}`]);
    } catch (e) {
      // Other replicas still see the rows at their next poll; say so once in a while, not per batch.
      if (Date.now() - this.lastErrorLogAt > 10_000) {
        this.lastErrorLogAt = Date.now();
        this.opts.logger.warn("could not notify other replicas of new events; they will read them at their next poll", {
          error: toError(e),
        });
      }
    } finally {
      this.flushing = false;
      if (!this.closed && this.pendingId) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    }
  }
}
