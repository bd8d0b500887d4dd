/**
 * The webhook delivery worker: claims due outbox rows (webhook_deliveries) and POSTs each to its webhook,
 * signed (webhook-signature.ts). It runs on its own timers, apart from the scheduler's tick, with at most
 * `concurrency` requests in flight and each bounded by `timeoutMs`: a slow or dead receiver holds only its
 * own slots, never the scheduler. A failed attempt is retried after 5 s × 2^(n-1) until `maxAttempts`, then
 * the delivery is dead with its last error (afterFailedAttempt). In Pro only the leader delivers; the claim
 * (FOR UPDATE SKIP LOCKED and a lease) still keeps two replicas from sending one row at once during a
 * leadership change. Delivery is at least once: a crash after the receiver answered but before the result
 * was recorded sends that row again when its lease ends, with the same X-Leoflow-Delivery id to dedupe on.
 * The leader also prunes finished rows past the retention window (prune()), batch by batch.
 *
 * @example
 * const worker = new WebhookDeliverer({ store, metrics, isLeader: () => campaign.isLeader });
 * worker.start();
 */
import {
  DEFAULT_WEBHOOK_RETRY,
  DEFAULT_WEBHOOK_RETENTION_S,
  afterFailedAttempt,
  webhookPruneCutoffs,
  errorMessage,
  type ClaimedWebhookDelivery,
  type WebhookAttemptOutcome,
  type WebhookRetryPolicy,
} from "../domain";
import { webhookDeliveries, type Metrics } from "../observability";
import type { WebhookStore } from "../store";
import { signWebhook } from "./webhook-signature";

export interface WebhookDelivererOptions {
  store: Pick<
    WebhookStore,
    "claimWebhookDeliveries" | "finishWebhookDelivery" | "refreshWebhookInterest" | "enqueueWebhookEvents" | "pruneWebhookDeliveries"
  >;
  retry?: WebhookRetryPolicy;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Requests in flight at most (default 8). */
  concurrency?: number;
  /** How often due rows are looked for (default 1 s); poke() looks at once. */
  pollMs?: number;
  isLeader?: () => boolean;
  /**
   * Pro: how often this replica re-reads which event types webhooks want (a webhook created through another
   * replica reaches this one's outbox writes within it). Lite: unset, the one store learns of its own writes.
   */
  refreshInterestMs?: number;
  /** Delivered rows are deleted this long after they were created, dead ones 4 times as long (default 7 days). */
  retentionMs?: number;
  /** How often the leader prunes (default 60 s). */
  pruneEveryMs?: number;
  /** Names this replica in `scheduler.leader_changed` events. */
  replica?: string;
  metrics?: Metrics;
  onError?: (error: unknown) => void;
  now?: () => Date;
}

const ERROR_BODY_CHARS = 200;
/** Pro replicas re-read the wanted event types this often (a new webhook applies everywhere within it). */
export const WEBHOOK_INTEREST_REFRESH_MS = 5000;
/** The dashboard's labels of leoflow_webhook_deliveries_total (observability/webhook-metrics.ts). */
const RESULT_LABEL = { delivered: "delivered", retry: "failed", dead: "gave_up" } as const;
/** Rows deleted per statement: each batch is a short transaction, so no lock is held on the outbox for long. */
export const WEBHOOK_PRUNE_BATCH = 1000;

export class WebhookDeliverer {
  private inFlight = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private claiming: Promise<void> | null = null;
  private running = new Set<Promise<void>>();
  private stopped = true;
  private refresher: ReturnType<typeof setInterval> | null = null;
  private pruner: ReturnType<typeof setInterval> | null = null;
  private pruning: Promise<number> | null = null;
  private readonly shutdown = new AbortController();
  private readonly outcomes;

  constructor(private readonly o: WebhookDelivererOptions) {
    this.outcomes = o.metrics && webhookDeliveries(o.metrics);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
    if (this.o.refreshInterestMs) {
      this.refresher = setInterval(
        () => void this.o.store.refreshWebhookInterest().catch((e) => this.o.onError?.(e)),
        this.o.refreshInterestMs,
      );
      this.refresher.unref?.();
    }
    this.pruner = setInterval(() => {
      if (this.o.isLeader?.() ?? true) void this.prune().catch((e) => this.o.onError?.(e));
    }, this.o.pruneEveryMs ?? 60_000);
    this.pruner.unref?.();
  }

  /**
   * Deletes the finished deliveries past retention, WEBHOOK_PRUNE_BATCH rows per statement until none is
   * left; returns how many. One pass at a time: a pass still going when the next is due is reused.
   */
  prune(): Promise<number> {
    this.pruning ??= (async () => {
      const cutoffs = webhookPruneCutoffs(this.now(), this.o.retentionMs ?? DEFAULT_WEBHOOK_RETENTION_S * 1000);
      let total = 0;
      for (;;) {
        const n = await this.o.store.pruneWebhookDeliveries(cutoffs, WEBHOOK_PRUNE_BATCH);
        total += n;
        if (n < WEBHOOK_PRUNE_BATCH || this.shutdown.signal.aborted) return total;
      }
    })().finally(() => (this.pruning = null));
    return this.pruning;
  }

  /** This replica became leader (Pro): queues `scheduler.leader_changed` for the webhooks that want it. */
  leadershipChanged(leading: boolean): void {
    if (!leading) return;
    const now = this.now();
    const event = { type: "scheduler.leader_changed", leader: this.o.replica ?? null, time: now.toISOString() };
    void this.o.store
      .enqueueWebhookEvents([event], now)
      .then(() => this.poke())
      .catch((e) => this.o.onError?.(e));
  }

  /** Looks for due deliveries now (after a test ping or a redeliver). */
  poke(): void {
    if (!this.stopped) this.schedule(0);
  }

  /**
   * Stops claiming and cuts the requests in flight: a stuck receiver does not hold up a shutdown. Their rows
   * stay claimed and are sent again when the lease ends (by this server after a restart, or the next leader).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.shutdown.abort();
    if (this.refresher) clearInterval(this.refresher);
    if (this.pruner) clearInterval(this.pruner);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.claiming;
    await this.pruning?.catch(() => {});
    await Promise.all(this.running);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.claiming) this.claiming = this.claim().finally(() => (this.claiming = null));
    }, ms);
    this.timer.unref?.();
  }

  private async claim(): Promise<void> {
    const free = (this.o.concurrency ?? 8) - this.inFlight;
    try {
      if (free > 0 && !this.stopped && (this.o.isLeader?.() ?? true)) {
        const timeoutMs = this.o.timeoutMs ?? 10_000;
        // The lease outlives the request and the write of its result; past it (a crash) the row is claimable again.
        const claimed = await this.o.store.claimWebhookDeliveries(this.now(), free, 2 * timeoutMs + 5000);
        for (const d of claimed) this.track(this.deliver(d, timeoutMs));
        if (claimed.length === free) return this.schedule(0);
      }
    } catch (e) {
      this.o.onError?.(e);
    }
    if (!this.stopped) this.schedule(this.o.pollMs ?? 1000);
  }

  private track(p: Promise<void>): void {
    this.inFlight++;
    this.running.add(p);
    void p.finally(() => {
      this.inFlight--;
      this.running.delete(p);
      if (!this.stopped) this.schedule(0);
    });
  }

  private async deliver(d: ClaimedWebhookDelivery, timeoutMs: number): Promise<void> {
    const outcome = await this.attempt(d, timeoutMs);
    if (this.shutdown.signal.aborted) return; // cut by stop(): not the receiver's failure
    this.outcomes?.inc({ result: RESULT_LABEL[outcome.kind] });
    try {
      await this.o.store.finishWebhookDelivery(d.id, d.attempts, outcome, this.now());
    } catch (e) {
      this.o.onError?.(e);
    }
  }

  private async attempt(d: ClaimedWebhookDelivery, timeoutMs: number): Promise<WebhookAttemptOutcome> {
    const policy = this.o.retry ?? DEFAULT_WEBHOOK_RETRY;
    if (d.secret_error) return afterFailedAttempt(d.attempts, { status: null, error: d.secret_error }, this.now(), policy);
    const body = JSON.stringify(d.event);
    const timestamp = String(Math.floor(this.now().getTime() / 1000));
    let status: number | null = null;
    let error: string;
    try {
      const res = await fetch(d.url, {
        method: "POST",
        body,
        // A redirect is a failure, not followed: the signature was made for this URL's receiver.
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.shutdown.signal]),
        headers: {
          "content-type": "application/json",
          "user-agent": "Leoflow-Webhooks",
          "x-leoflow-event": d.event_type,
          "x-leoflow-delivery": String(d.id),
          "x-leoflow-timestamp": timestamp,
          "x-leoflow-signature": signWebhook(d.secret, timestamp, body),
        },
      });
      status = res.status;
      const text = await res.text().catch(() => "");
      if (res.ok) return { kind: "delivered", status };
      error = `HTTP ${status}${text ? `: ${text.slice(0, ERROR_BODY_CHARS)}` : ""}`;
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
      error = timedOut ? `no response within ${timeoutMs} ms` : errorMessage(e);
    }
    return afterFailedAttempt(d.attempts, { status, error }, this.now(), policy);
  }

  private now(): Date {
    return this.o.now?.() ?? new Date();
  }
}
