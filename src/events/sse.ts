/**
 * GET /api/v2/leoflow/events: the lifecycle events as Server-Sent Events (our own addition to Airflow's
 * API, hence the `leoflow` segment). A stream carries only the events of the team the request acts in (live
 * and replayed alike). Filters: `dag_id`, `run_id`, `type` (comma-separated event types or prefixes such as
 * `dag_run.`). Each message is `id: <n>`, `event: <type>`, `data: <JSON event>`; a
 * comment every 15 s keeps proxies from closing an idle stream. On a server the `id:` is the event log's id
 * (shared by every Pro replica): a client that reconnects to any replica with `Last-Event-ID: <id>` (or
 * `?last_event_id=<id>`) gets exactly the events after it, replayed from the log, then live ones; a client
 * that falls behind is caught up from the log. A bare hub (no log) streams live only and, when this client
 * fell behind and lost events, an `event: dropped` message says how many.
 *
 * @example curl -N -H "Authorization: Bearer $T" 'http://127.0.0.1:8080/api/v2/leoflow/events?dag_id=etl'
 */
import { Hono, type Context, type Env } from "hono";
import type { EventHub, Subscription } from "./emitter";
import { parseLastEventId, StreamCursor } from "./resume";
import type { EventHistory, LeoflowEvent } from "./types";

export const EVENTS_PATH = "/leoflow/events";
const KEEPALIVE_MS = 15_000;

export interface EventFilter {
  /** Only this team's events (the route always sets it). */
  team?: string;
  dag_id?: string;
  run_id?: string;
  /** Exact types, or prefixes ending in "." (e.g. "task_instance."). */
  types?: string[];
}

/** Whether `e` passes the filter. Pure. */
export function matchesEventFilter(e: LeoflowEvent, f: EventFilter): boolean {
  // A cluster's event (no team: scheduler.leader_changed) is every team's.
  if (f.team !== undefined && e.team !== undefined && e.team !== f.team) return false;
  if (f.dag_id && e.dag_id !== f.dag_id) return false;
  if (f.run_id && e.run_id !== f.run_id) return false;
  if (f.types?.length && !f.types.some((t) => (t.endsWith(".") ? e.type.startsWith(t) : e.type === t))) return false;
  return true;
}

/** One SSE message. Pure. */
export function formatSse(e: LeoflowEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * Routes to mount under /api/v2 (behind the API's authentication); `teamOf` is the team the request acts in
 * (the API's teamOf), whose events alone the stream carries.
 */
export function eventRoutes<E extends Env>(hub: EventHub, teamOf: (c: Context<E>) => string): Hono<E> {
  const app = new Hono<E>();
  app.get(EVENTS_PATH, (c) => {
    const types = c.req
      .query("type")
      ?.split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    const filter: EventFilter = {
      team: teamOf(c),
      dag_id: c.req.query("dag_id") || undefined,
      run_id: c.req.query("run_id") || undefined,
      types,
    };
    const after = parseLastEventId(c.req.header("last-event-id"), c.req.query("last_event_id"));
    if (after === "invalid")
      return c.json(
        { detail: "Last-Event-ID (or last_event_id) must be the id: of an event this stream sent, a non-negative integer" },
        400,
      );
    const match = (e: LeoflowEvent) => matchesEventFilter(e, filter);
    // Subscribed before the replay reads the log: an event is then in the replay or arrives live, never neither.
    const sub = hub.subscribe({ filter: match });
    const resume = hub.history ? { history: hub.history, after, match } : undefined;
    return new Response(sseStream(sub, c.req.raw.signal, KEEPALIVE_MS, resume), {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
    });
  });
  return app;
}

/** Where a stream with an event log starts: after `after` (Last-Event-ID), or at the newest id when null. */
export interface StreamResume {
  history: EventHistory;
  after: number | null;
  match: (e: LeoflowEvent) => boolean;
}

/**
 * Pulls from the subscription only as fast as the client reads: a slow client fills its own buffer only.
 * With `resume`, it first replays the log after the client's id, then sends live events above the last id
 * sent; a client that fell behind the hub is caught up from the log again instead of losing events.
 */
export function sseStream(
  sub: Subscription,
  signal?: AbortSignal,
  keepaliveMs = KEEPALIVE_MS,
  resume?: StreamResume,
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const cursor = resume ? new StreamCursor(resume.history, resume.after, resume.match) : null;
  let pending: Promise<LeoflowEvent | null> | null = null;
  let reportedDrops = 0;
  signal?.addEventListener("abort", () => sub.close(), { once: true });
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(": leoflow events\nretry: 2000\n\n"));
      // "Now" is when the client connected, not when it first reads.
      return cursor?.begin().then(() => {});
    },
    // Loops until it has something to send: a pull that enqueues nothing is not called again.
    async pull(controller) {
      for (;;) {
        if (cursor?.replaying) {
          // Whatever the hub dropped so far is in the log, after the cursor.
          reportedDrops = sub.dropped;
          const page = await cursor.replayPage();
          if (page.length) return controller.enqueue(enc.encode(page.map(formatSse).join("")));
          continue;
        }
        pending ??= sub.next();
        let timer: Timer | undefined;
        const tick = new Promise<"tick">((r) => (timer = setTimeout(() => r("tick"), keepaliveMs)));
        const got = await Promise.race([pending, tick]);
        clearTimeout(timer);
        if (got === "tick") return controller.enqueue(enc.encode(": keepalive\n\n"));
        pending = null;
        if (got === null) return controller.close();
        // Flush whatever else is already buffered in the same chunk.
        const batch = [got];
        for (let e = sub.poll(); e; e = sub.poll()) batch.push(e);
        let out = (cursor ? batch.filter((e) => cursor.admit(e)) : batch).map(formatSse).join("");
        if (sub.dropped > reportedDrops) {
          // Drops happen only while the buffer is full, so the lost events came after everything sent so far.
          if (cursor) cursor.fellBehind();
          else out += `event: dropped\ndata: ${JSON.stringify({ dropped: sub.dropped - reportedDrops })}\n\n`;
          reportedDrops = sub.dropped;
        }
        if (out) return controller.enqueue(enc.encode(out));
      }
    },
    cancel() {
      sub.close();
    },
  });
}
