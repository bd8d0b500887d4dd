/**
 * The server's lifecycle events, wired: producers emit into the EventLog (batched appends to the store's
 * event log); after each append the notifier tells every replica (Pro: Postgres NOTIFY; Lite: a call); each
 * replica's EventFeed reads the new rows in id order into its hub, whose streams resume from the log.
 * Retention prunes the log on every replica (an idempotent range delete on the primary key).
 *
 * @example
 * const events = createServerEvents({ store: raw, hub, logger, retention, pg: { url, channel } });
 * const store = withStoreEvents(raw, events.log);
 * await events.start();
 */
import type { Logger } from "../observability";
import type { EventLogStore } from "../store";
import type { EventHub } from "./emitter";
import { EventLog, storeEventHistory, type AppendedEvent } from "./event-log";
import { LocalEventNotifier, PgEventNotifier, type EventNotifier } from "./event-notifier";
import { EventFeed } from "./feed";
import { toError } from "../domain";

export interface EventRetention {
  /** Rows older than this are pruned. */
  maxAgeMs: number;
  /** At most this many rows are kept. */
  maxRows: number;
}

export const DEFAULT_EVENT_RETENTION: EventRetention = { maxAgeMs: 24 * 3600_000, maxRows: 100_000 };

export interface ServerEventsOptions {
  /** The store without the event wrapper (the log's own reads and writes emit nothing). */
  store: EventLogStore;
  hub: EventHub;
  logger: Logger;
  retention?: EventRetention;
  /** Pro: Postgres LISTEN/NOTIFY between replicas. Absent: this process only. */
  pg?: { url: string; channel: string };
  /** Backstop read when a notification was lost (the sender could not NOTIFY). Default 2000 ms. */
  pollMs?: number;
  /** How often retention runs. Default 60 s. */
  pruneEveryMs?: number;
}

export interface ServerEvents {
  /** Where producers emit (withStoreEvents, the dispatch retry policy). */
  log: EventLog;
  feed: EventFeed;
  start(): Promise<void>;
  /** Appends what is pending, then stops notifications and timers. Call before closing the store. */
  close(): Promise<void>;
  /** Runs retention once now; returns the rows deleted. */
  prune(now?: Date): Promise<number>;
  /** Hands each batch this process appends, with its ids, to `reader` once committed (the callback runner). */
  onAppended(reader: (appended: readonly AppendedEvent[]) => void): void;
}

export function createServerEvents(opts: ServerEventsOptions): ServerEvents {
  const { store, hub, logger } = opts;
  const retention = opts.retention ?? DEFAULT_EVENT_RETENTION;
  const history = storeEventHistory(store);
  hub.history = history;
  const notifier: EventNotifier = opts.pg ? new PgEventNotifier(opts.pg) : new LocalEventNotifier();
  let lastReadErrorAt = 0;
  const feed = new EventFeed({
    history,
    publish: (e) => hub.publish(e),
    listening: () => hub.wanted,
    onError: (e) => {
      if (Date.now() - lastReadErrorAt < 10_000) return;
      lastReadErrorAt = Date.now();
      logger.warn("reading the event log failed; streams catch up at the next notification or poll", { error: toError(e) });
    },
  });
  let lastAppendErrorAt = 0;
  const readers: ((appended: readonly AppendedEvent[]) => void)[] = [];
  const log = new EventLog({
    // Pro: the append itself tells the other replicas (PgEventNotifier.notice).
    append: (events, now) => store.appendEvents(events, now, notifier.notice),
    onAppended: (lastId, appended) => {
      feed.poke(lastId);
      for (const reader of readers) reader(appended);
    },
    onError: (e, { batch, dropped }) => {
      if (!dropped && Date.now() - lastAppendErrorAt < 10_000) return;
      lastAppendErrorAt = Date.now();
      logger.warn("appending lifecycle events failed; retrying", { error: toError(e), batch, dropped });
    },
  });
  notifier.subscribe((upTo) => feed.poke(upTo));

  const prune = async (now = new Date()) => store.pruneEvents(new Date(now.getTime() - retention.maxAgeMs), retention.maxRows);
  const timers: ReturnType<typeof setInterval>[] = [];
  return {
    log,
    feed,
    prune,
    onAppended: (reader) => void readers.push(reader),
    async start() {
      await feed.start();
      await notifier.start();
      timers.push(setInterval(() => feed.poke(), opts.pollMs ?? 2000));
      timers.push(
        setInterval(
          () => void prune().catch((e) => logger.warn("pruning the event log failed", { error: toError(e) })),
          opts.pruneEveryMs ?? 60_000,
        ),
      );
      for (const t of timers) t.unref?.();
    },
    async close() {
      for (const t of timers) clearInterval(t);
      await log.close();
      await feed.idle();
      await notifier.close();
    },
  };
}
