/**
 * Scheduler wake-ups across replicas. In Pro an agent's RPC or an API trigger may land on any replica, but
 * only the leader schedules, so a change on a follower must reach the leader in milliseconds, not at its
 * next sweep. PgWakeBus carries them over Postgres LISTEN/NOTIFY (channel `leoflow_wake`, payload
 * `<origin>:<dag_run_id>` or `<origin>:*` for a full sweep); LocalWakeBus is Lite's in-process call. The same
 * channel tells the other replicas that a webhook was created, changed or deleted (`<origin>:webhooks`), so
 * their outbox writes see it at once (events/webhook-changes.ts).
 *
 * @example
 * const bus = new PgWakeBus({ url, logger });
 * bus.subscribe((runId) => loop.wake(runId));
 * await bus.start();
 * bus.wake(42); // the leader plans run 42 now, whichever replica this is
 */
// crypto.getRandomValues, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server
// ~5 ms of every start (test/architecture/startup-graph.test.ts).
import type { Logger } from "../observability";
import { PgNotifyChannel, type NotifyChannel } from "../store";
import { fnv1a32, toError } from "../domain";

export type WakeHandler = (dagRunId?: number) => void;
/** The payload body saying "webhooks changed: re-read which event types they want". */
export const WEBHOOKS_CHANGED = "webhooks";

export interface WakeBus {
  /** Asks the leading scheduler to plan this run now (no id: a full sweep). Never throws, never waits. */
  wake(dagRunId?: number): void;
  /** The local receiver of every wake-up (this replica's own and the others'). */
  subscribe(handler: WakeHandler): void;
  /** Tells the other replicas that webhooks changed (this one's store already knows). Never throws, never waits. */
  webhooksChanged(): void;
  /** The local receiver of the other replicas' webhooksChanged (also called after a reconnect: some may be lost). */
  onWebhooksChanged(handler: () => void): void;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Lite: one process, so a wake-up is a function call. */
export class LocalWakeBus implements WakeBus {
  private handler: WakeHandler = () => {};
  wake(dagRunId?: number): void {
    this.handler(dagRunId);
  }
  subscribe(handler: WakeHandler): void {
    this.handler = handler;
  }
  /** One process, one store: it learned of the change when it wrote it. */
  webhooksChanged(): void {}
  onWebhooksChanged(): void {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
}

export const WAKE_CHANNEL = "leoflow_wake";

/**
 * The channel of the deployment living in `schema`: NOTIFY is per database, and deployments (or test runs)
 * sharing a database in different schemas must not wake each other.
 */
export function wakeChannelFor(schema?: string): string {
  return channelFor(WAKE_CHANNEL, schema);
}

/** `base` for the `public` schema, else `base_<hash of schema>` (channel names are short identifiers). */
export function channelFor(base: string, schema?: string): string {
  if (!schema || schema === "public") return base;
  return `${base}_${fnv1a32(schema).toString(16).padStart(8, "0")}`;
}
/** NOTIFY payloads are limited to 8000 bytes; a bigger burst is sent as one full sweep instead. */
const MAX_IDS_PER_FLUSH = 500;

/** Parses a payload; null when it came from this replica (already delivered locally) or is malformed. */
export function parseWakePayload(payload: string, self: string): { dagRunId?: number; webhooks?: true } | null {
  const sep = payload.indexOf(":");
  if (sep < 0 || payload.slice(0, sep) === self) return null;
  const body = payload.slice(sep + 1);
  if (body === "*") return {};
  if (body === WEBHOOKS_CHANGED) return { webhooks: true };
  const id = Number(body);
  return Number.isSafeInteger(id) && id > 0 ? { dagRunId: id } : null;
}

export interface PgWakeBusOptions {
  url: string;
  logger: Logger;
  channel?: string;
  /**
   * True while this replica leads the scheduler: its wake-ups are then for its own loop only, and no NOTIFY
   * goes out (the other replicas ignore run wake-ups unless they lead). Each NOTIFY is a commit with a WAL flush
   * of its own: on a Pro leader they ran beside every inline end's write and made the hop ~0.35 ms slower
   * than Lite's on the same database (scripts/bench chain, pro-postgres 2.35–2.37 against 1.99–2.11 ms without
   * them). A change the leader makes while it is being replaced is found by the new leader's sweeps (its
   * first is full, the later ones read what was stamped since), as before.
   */
  leading?: () => boolean;
}

export class PgWakeBus implements WakeBus {
  private handler: WakeHandler = () => {};
  private webhooksHandler = () => {};
  private pendingWebhooks = false;
  private readonly channel: NotifyChannel;
  private readonly origin = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex");
  private pending = new Set<number>();
  private pendingSweep = false;
  private flushing = false;
  private closed = false;
  private lastErrorLogAt = 0;

  constructor(private readonly opts: PgWakeBusOptions) {
    // Its own small client: NOTIFYs never wait behind store queries, and LISTEN gets a dedicated connection.
    this.channel = new PgNotifyChannel({ url: opts.url, channel: opts.channel ?? WAKE_CHANNEL, applicationName: "leoflow-wake" });
  }

  subscribe(handler: WakeHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    await this.channel.listen(
      (payload) => {
        const parsed = parseWakePayload(payload, this.origin);
        if (parsed?.webhooks) this.webhooksHandler();
        else if (parsed) this.handler(parsed.dagRunId);
      },
      // Runs on every (re)connect of the listening session: notifications sent while it was down are lost,
      // so sweep everything once and re-read the webhooks.
      () => {
        this.handler();
        this.webhooksHandler();
      },
    );
  }

  onWebhooksChanged(handler: () => void): void {
    this.webhooksHandler = handler;
  }

  webhooksChanged(): void {
    if (this.closed) return;
    this.pendingWebhooks = true;
    this.scheduleFlush();
  }

  wake(dagRunId?: number): void {
    if (this.closed) return;
    this.handler(dagRunId);
    if (this.opts.leading?.()) return;
    if (dagRunId === undefined) this.pendingSweep = true;
    else this.pending.add(dagRunId);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushing) {
      this.flushing = true;
      // One round trip per burst: everything woken in this turn goes out in a single statement.
      setImmediate(() => void this.flush());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.channel.close();
  }

  private async flush(): Promise<void> {
    const sweep = this.pendingSweep || this.pending.size > MAX_IDS_PER_FLUSH;
    const payloads = sweep ? [`${this.origin}:*`] : [...this.pending].map((id) => `${this.origin}:${id}`);
    if (this.pendingWebhooks) payloads.push(`${this.origin}:${WEBHOOKS_CHANGED}`);
    this.pending = new Set();
    this.pendingSweep = false;
    this.pendingWebhooks = false;
    try {
      await this.channel.notify(payloads);
    } catch (e) {
      // The leader's periodic sweep is the backstop; say so once in a while, not per wake-up.
      if (Date.now() - this.lastErrorLogAt > 10_000) {
        this.lastErrorLogAt = Date.now();
        this.opts.logger.warn("could not notify other replicas; the leader will see the change at its next sweep", { error: toError(e) });
      }
    } finally {
      this.flushing = false;
      // Wake-ups that arrived while this flush was in flight go out in the next one.
      if (!this.closed && (this.pending.size || this.pendingSweep || this.pendingWebhooks)) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    }
  }
}
