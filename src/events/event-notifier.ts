/**
 * Tells every replica that the event log has grown. On Postgres each append announces its newest id over
 * LISTEN/NOTIFY itself (channel `leoflow_events`, per schema like the wake-up channel; payload `<origin>:<id>`,
 * so a replica ignores its own), in the append's own statement: PgEventNotifier says where (`notice`) and
 * listens for the other replicas' appends; each replica's feed then reads the rows after its own cursor. The
 * payload is only a hint: a NOTIFY lost while a listening connection was down is made up for by a read on
 * reconnect.
 *
 * @example
 * const n = new PgEventNotifier({ url, channel: channelFor(EVENTS_CHANNEL, schema) });
 * n.subscribe((upTo) => feed.poke(upTo));
 * await n.start();
 * await store.appendEvents(events, now, n.notice); // the other replicas' feeds are poked at its commit
 */
// crypto.getRandomValues, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server
// ~5 ms of every start (test/architecture/startup-graph.test.ts).
import { PgNotifyChannel, type EventAppendNotice, type NotifyChannel } from "../store";

export const EVENTS_CHANNEL = "leoflow_events";

/** `upTo`: a committed id; absent: something may have been missed (reconnect), read from the cursor. */
export type EventLogHandler = (upTo?: number) => void;

export interface EventNotifier {
  /** What an append passes to the store to tell the other replicas (store EventAppendNotice); none in Lite. */
  readonly notice?: EventAppendNotice;
  subscribe(handler: EventLogHandler): void;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Lite: one process, and the feed is poked directly after each append: no one else to tell. */
export class LocalEventNotifier implements EventNotifier {
  subscribe(): void {}
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
}

export class PgEventNotifier implements EventNotifier {
  readonly notice: EventAppendNotice;
  private handler: EventLogHandler = () => {};
  private readonly channel: NotifyChannel;

  constructor(opts: PgEventNotifierOptions) {
    // Its own small client: LISTEN gets a dedicated connection.
    this.channel = new PgNotifyChannel({ url: opts.url, channel: opts.channel, applicationName: "leoflow-events" });
    this.notice = { channel: opts.channel, origin: Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex") };
  }

  subscribe(handler: EventLogHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    await this.channel.listen(
      (payload) => {
        const parsed = parseEventsPayload(payload, this.notice.origin);
        if (parsed) this.handler(parsed.upTo);
      },
      // Every (re)connect: notifications sent while the session was down are lost, so read from the cursor.
      () => this.handler(),
    );
  }

  async close(): Promise<void> {
    await this.channel.close();
  }
}
