/**
 * Resuming a stream: Last-Event-ID parsing, and an SSE stream over an event log that replays exactly the
 * events after the client's id, then goes live without duplicates, and catches a slow client up from the log.
 */
import { describe, expect, test } from "bun:test";
import { EventFeed, EventHub, StreamCursor, matchesEventFilter, parseLastEventId, sseStream, type LeoflowEvent } from "../../../src/events";
import { MemoryLog, created } from "./memory-log";

describe("parseLastEventId", () => {
  test.each([
    [undefined, undefined, null],
    ["", "", null],
    ["42", undefined, 42],
    [" 42 ", undefined, 42],
    [undefined, "7", 7],
    ["42", "7", 42], // the header (what EventSource sends on reconnect) wins
    ["0", undefined, 0],
    ["-1", undefined, "invalid"],
    ["4.5", undefined, "invalid"],
    ["abc", undefined, "invalid"],
    [undefined, "99999999999999999", "invalid"],
  ])("header %p, query %p → %p", (h, q, want) => expect(parseLastEventId(h, q)).toEqual(want as number | null | "invalid"));
});

describe("StreamCursor", () => {
  test("replays the rows after the id page by page, filtered, then admits only newer live events", async () => {
    const mem = new MemoryLog();
    await mem.append([created("a"), created("b", "other"), created("c"), created("d"), created("e")]);
    const cursor = new StreamCursor(mem, 1, (e) => e.dag_id === "etl", 2);
    expect((await cursor.replayPage()).map((e) => e.id)).toEqual([3]); // 2 is filtered out
    expect(cursor.replaying).toBe(true);
    expect((await cursor.replayPage()).map((e) => e.id)).toEqual([4, 5]);
    expect((await cursor.replayPage()).map((e) => e.id)).toEqual([]);
    expect(cursor.replaying).toBe(false);
    const live = (id: number) => ({ ...created("x"), id }) as LeoflowEvent;
    expect([4, 5, 6, 6, 7].map((id) => cursor.admit(live(id)))).toEqual([false, false, true, false, true]);
  });

  test("without Last-Event-ID it starts at the newest id: no replay of the past", async () => {
    const mem = new MemoryLog();
    await mem.append([created("a"), created("b")]);
    const cursor = new StreamCursor(mem, null, () => true);
    expect(await cursor.replayPage()).toEqual([]);
    expect([cursor.cursor, cursor.replaying]).toEqual([2, false]);
  });
});

/** Reads SSE chunks until `n` event ids have arrived; returns the ids. */
async function readIds(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<number[]> {
  const ids: number[] = [];
  while (ids.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const m of new TextDecoder().decode(value).matchAll(/^id: (\d+)$/gm)) ids.push(Number(m[1]));
  }
  return ids;
}

describe("sseStream over an event log", () => {
  async function server() {
    const mem = new MemoryLog();
    const hub = new EventHub();
    hub.history = mem;
    const feed = new EventFeed({ history: mem, publish: (e) => hub.publish(e), listening: () => hub.wanted });
    await feed.start();
    const append = async (...runs: string[]) => {
      const ids = await mem.append(runs.map((r) => created(r)));
      feed.poke(ids.at(-1));
      await feed.idle();
    };
    const open = (after: number | null, bufferSize?: number) => {
      const match = (e: LeoflowEvent) => matchesEventFilter(e, {});
      const sub = hub.subscribe({ filter: match, bufferSize });
      return sseStream(sub, undefined, 60_000, { history: mem, after, match }).getReader();
    };
    return { mem, hub, append, open };
  }

  test("Last-Event-ID: the events after it from the log, then live ones; none twice, none missing", async () => {
    const s = await server();
    await s.append("r1", "r2", "r3", "r4");
    const reader = s.open(2);
    expect(await readIds(reader, 2)).toEqual([3, 4]);
    await s.append("r5", "r6");
    expect(await readIds(reader, 2)).toEqual([5, 6]);
    await reader.cancel();
  });

  test("events committed between subscribing and replaying are sent once (the live copy is skipped)", async () => {
    const s = await server();
    await s.append("r1");
    const reader = s.open(1);
    await s.append("r2", "r3"); // reach both the subscription and the log before the stream replays
    expect(await readIds(reader, 2)).toEqual([2, 3]);
    await s.append("r4");
    expect(await readIds(reader, 1)).toEqual([4]);
    await reader.cancel();
  });

  test("a client that fell behind the hub is caught up from the log instead of losing events", async () => {
    const s = await server();
    const reader = s.open(null, 1);
    expect(await readIds(reader, 0)).toEqual([]); // the opening comment
    await s.append("r1", "r2", "r3", "r4", "r5"); // one fits the buffer, the rest are dropped by the hub
    expect(await readIds(reader, 5)).toEqual([1, 2, 3, 4, 5]);
    await s.append("r6");
    expect(await readIds(reader, 1)).toEqual([6]);
    await reader.cancel();
    expect(s.hub.subscriberCount).toBe(0);
  });
});
