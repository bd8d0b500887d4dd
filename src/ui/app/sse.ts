/**
 * Server-Sent Events read with fetch(): EventSource cannot send the Authorization header the API needs.
 * `SseParser` is the pure part (text chunks in, events out); `openEventStream` reconnects with the last
 * id seen, so no event is lost across a reconnect (the server replays from its event log). What changed
 * before the first connection (a page loading while its task starts) comes as no event, nor do the events
 * the server dropped for a reader that fell behind: each connection, and each drop, tells `onResync`
 * listeners (whether events may have been missed), and views reload then.
 */
import { API, authHeaders } from "./api";
import { fetchNoting } from "./reachability";
import { expireSession } from "./session";

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/** Incremental parser of the text/event-stream format. Pure. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | null = null;

  feed(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const nl = this.buffer.search(/\r\n|\n|\r/);
      if (nl < 0) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith("\r\n", nl) ? 2 : 1));
      if (line === "") {
        if (this.data.length) out.push({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
        this.data = [];
        this.event = "";
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") this.data.push(value);
      else if (field === "event") this.event = value;
      else if (field === "id") this.id = value;
    }
    return out;
  }
}

/** A lifecycle event as src/events/types.ts sends it. */
export interface LeoflowEvent {
  id: number;
  type: string;
  time: string;
  dag_id: string;
  run_id: string;
  task_id?: string;
  try_number?: number | null;
  state?: string;
  note?: string | null;
}

/** Follows /api/v2/leoflow/events until `signal` aborts; reconnects after errors. */
export function openEventStream(onEvent: (e: LeoflowEvent) => void, onStatus: (live: boolean) => void, signal: AbortSignal): void {
  let lastId: string | null = null;
  const connect = async () => {
    while (!signal.aborted) {
      try {
        const q = lastId ? `?last_event_id=${encodeURIComponent(lastId)}` : "";
        const res = await fetchNoting(`${API}/leoflow/events${q}`, { headers: { accept: "text/event-stream", ...authHeaders() }, signal });
        // The token expired or its user was deleted: retrying would only be refused again.
        if (res.status === 401) return expireSession();
        if (!res.ok || !res.body) throw new Error(`event stream answered HTTP ${res.status}`);
        onStatus(true);
        // Resumed from the last id seen, the server replays what came meanwhile; a first connection cannot.
        resync(lastId === null);
        const parser = new SseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const m of parser.feed(value)) {
            if (m.id) lastId = m.id;
            if (m.event === "dropped") {
              resync(true);
              continue;
            }
            try {
              onEvent(JSON.parse(m.data));
            } catch {
              // A message that is not JSON is not ours to show.
            }
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      onStatus(false);
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  connect().catch(() => onStatus(false));
}

type Listener = (e: LeoflowEvent) => void;
const listeners = new Set<Listener>();
const resyncListeners = new Set<(missed: boolean) => void>();
const resync = (missed: boolean) => {
  for (const l of resyncListeners) l(missed);
};

/** Subscribes a view to every event of the app's one stream; returns the unsubscribe. */
export function onEvent(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Subscribes a view to the stream's connections (the first and every reconnect) and to the events the server
 * dropped: a view that read its data before reloads it then, so a change it never got an event for still shows.
 * `missed`: events may have been missed (a connection that could not resume from a last id, or a drop); a
 * connection that resumed replays what came meanwhile.
 */
export function onResync(listener: (missed: boolean) => void): () => void {
  resyncListeners.add(listener);
  return () => resyncListeners.delete(listener);
}

export function dispatchEvent(e: LeoflowEvent): void {
  for (const l of listeners) l(e);
}
