/**
 * GET /api/v2/leoflow/events: the lifecycle events as Server-Sent Events (our own addition to Airflow's
 * API, hence the `leoflow` segment). Filters: `dag_id`, `run_id`, `type` (comma-separated event types or
 * prefixes such as `dag_run.`). Each message is `id: <n>`, `event: <type>`, `data: <JSON event>`; a
 * comment every 15 s keeps proxies from closing an idle stream; when this client fell behind and lost
 * events, an `event: dropped` message says how many.
 *
 * @example curl -N -H "Authorization: Bearer $T" 'http://127.0.0.1:8080/api/v2/leoflow/events?dag_id=etl'
 */
import { Hono, type Env } from "hono";
import type { EventHub, Subscription } from "./emitter";
import type { LeoflowEvent } from "./types";

export const EVENTS_PATH = "/leoflow/events";
const KEEPALIVE_MS = 15_000;

export interface EventFilter {
  dag_id?: string;
  run_id?: string;
  /** Exact types, or prefixes ending in "." (e.g. "task_instance."). */
  types?: string[];
}

/** Whether `e` passes the filter. Pure. */
export function matchesEventFilter(e: LeoflowEvent, f: EventFilter): boolean {
  if (f.dag_id && e.dag_id !== f.dag_id) return false;
  if (f.run_id && e.run_id !== f.run_id) return false;
  if (f.types?.length && !f.types.some((t) => (t.endsWith(".") ? e.type.startsWith(t) : e.type === t))) return false;
  return true;
}

/** One SSE message. Pure. */
export function formatSse(e: LeoflowEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** Routes to mount under /api/v2 (behind the API's authentication). */
export function eventRoutes<E extends Env>(hub: EventHub): Hono<E> {
  const app = new Hono<E>();
  app.get(EVENTS_PATH, (c) => {
    const types = c.req.query("type")?.split(",").map((t) => t.trim()).filter(Boolean);
    const filter: EventFilter = { dag_id: c.req.query("dag_id") || undefined, run_id: c.req.query("run_id") || undefined, types };
    const sub = hub.subscribe({ filter: (e) => matchesEventFilter(e, filter) });
    return new Response(sseStream(sub, c.req.raw.signal), {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
    });
  });
  return app;
}

/** Pulls from the subscription only as fast as the client reads: a slow client fills its own buffer only. */
export function sseStream(sub: Subscription, signal?: AbortSignal, keepaliveMs = KEEPALIVE_MS): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let pending: Promise<LeoflowEvent | null> | null = null;
  let reportedDrops = 0;
  signal?.addEventListener("abort", () => sub.close(), { once: true });
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(": leoflow events\nretry: 2000\n\n"));
    },
    async pull(controller) {
      pending ??= sub.next();
      let timer: Timer | undefined;
      const tick = new Promise<"tick">((r) => (timer = setTimeout(() => r("tick"), keepaliveMs)));
      const got = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (got === "tick") return controller.enqueue(enc.encode(": keepalive\n\n"));
      pending = null;
      if (got === null) return controller.close();
      let out = formatSse(got);
      // Flush whatever else is already buffered in the same chunk.
      for (let e = sub.poll(); e; e = sub.poll()) out += formatSse(e);
      // Drops happen only while the buffer is full, so the lost events came after everything sent so far.
      if (sub.dropped > reportedDrops) {
        out += `event: dropped\ndata: ${JSON.stringify({ dropped: sub.dropped - reportedDrops })}\n\n`;
        reportedDrops = sub.dropped;
      }
      controller.enqueue(enc.encode(out));
    },
    cancel() {
      sub.close();
    },
  });
}
