/**
 * Resuming a stream from the event log: where it starts (Last-Event-ID, else the newest id), the pages it
 * replays, and which live events it still has to send. Sending only ids above the cursor is what makes
 * replay-then-live exact: the stream subscribes to the hub before replaying, so an event is either in the
 * replay or arrives live, and one that is both is sent once.
 *
 * @example
 * const cursor = new StreamCursor(history, parseLastEventId(header, query) ?? null, match);
 * while (cursor.replaying) send(await cursor.replayPage());
 * for await (const e of sub) if (cursor.admit(e)) send([e]);
 */
import type { EventHistory, LeoflowEvent } from "./types";

export const REPLAY_PAGE = 500;

/**
 * The id a client resumes after: the `Last-Event-ID` header (what EventSource sends on reconnect) wins over
 * `?last_event_id=`. Null when neither is given; "invalid" when one is not a non-negative integer. Pure.
 */
export function parseLastEventId(header: string | null | undefined, query: string | null | undefined): number | null | "invalid" {
  const raw = (header?.trim() || query?.trim()) ?? "";
  if (raw === "") return null;
  if (!/^\d{1,16}$/.test(raw)) return "invalid";
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : "invalid";
}

export class StreamCursor {
  /** The newest id this stream has passed (sent, or skipped by its filter); null until the start is known. */
  cursor: number | null;
  /** True while the stream reads the log rather than the hub (at start, and after it fell behind). */
  replaying = true;

  constructor(
    private readonly history: EventHistory,
    after: number | null,
    private readonly match: (e: LeoflowEvent) => boolean,
    private readonly pageSize = REPLAY_PAGE,
  ) {
    this.cursor = after;
  }

  /** Fixes where a stream without Last-Event-ID starts: the newest id now, when the stream opens. */
  async begin(): Promise<number> {
    return (this.cursor ??= await this.history.lastId());
  }

  /** The next page of the log after the cursor, only the events the filter keeps; ends the replay once caught up. */
  async replayPage(): Promise<LeoflowEvent[]> {
    const after = await this.begin();
    const page = await this.history.readAfter(after, this.pageSize);
    const out: LeoflowEvent[] = [];
    for (const e of page) {
      if (this.cursor !== null && e.id <= this.cursor) continue;
      this.cursor = e.id;
      if (this.match(e)) out.push(e);
    }
    if (page.length < this.pageSize) this.replaying = false;
    return out;
  }

  /** Whether a live event is still to be sent (its id is above the cursor); moves the cursor past it. */
  admit(e: LeoflowEvent): boolean {
    if (this.cursor !== null && e.id <= this.cursor) return false;
    this.cursor = e.id;
    return true;
  }

  /** The hub dropped events for this stream: read them from the log instead of losing them. */
  fellBehind(): void {
    this.replaying = true;
  }
}
