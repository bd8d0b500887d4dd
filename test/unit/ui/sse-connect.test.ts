/**
 * The UI's event stream tells views when it connects, and whether events may have been missed, so a view that read
 * its data before (a task page loading while its task starts) reloads and does not wait for the task's next event.
 * `fetch` is a stand-in for the server's /api/v2/leoflow/events here (the browser test drives the real one).
 */
import { afterEach, expect, test } from "bun:test";
import { onResync, openEventStream } from "../../../src/ui/app/sse";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

const message = (id: number) =>
  `id: ${id}\nevent: task_instance.state_changed\ndata: ${JSON.stringify({ id, type: "x", task_id: "t" })}\n\n`;

/** A response whose body is `text`, then ends (the stream reconnects after it). */
const streamOf = (text: string) =>
  new Response(
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(text));
        c.close();
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );

test("each connection calls the listeners before the events it brings; an unsubscribed one is not called", async () => {
  const seen: string[] = [];
  const urls: string[] = [];
  const bodies = [message(7), message(8)];
  globalThis.fetch = (async (url: string) => {
    urls.push(String(url));
    return streamOf(bodies.shift() ?? "");
  }) as unknown as typeof fetch;
  const offResync = onResync((missed) => seen.push(missed ? "connected, events may be missed" : "resumed"));
  const offGone = onResync(() => seen.push("unsubscribed"));
  offGone();
  const ctl = new AbortController();
  const status: boolean[] = [];
  openEventStream(
    (e) => seen.push(`stream event ${e.id}`),
    (live) => status.push(live),
    ctl.signal,
  );
  // The first body ends: the stream reconnects (after its 2 s pause) from the last id it saw.
  for (let i = 0; i < 100 && seen.length < 4; i++) await Bun.sleep(50);
  ctl.abort();
  offResync();
  expect(status[0]).toBe(true);
  expect(seen).toEqual(["connected, events may be missed", "stream event 7", "resumed", "stream event 8"]);
  expect(urls[0]).not.toContain("last_event_id");
  expect(urls[1]).toContain("last_event_id=7");
});

test("events the server dropped for a slow reader are a miss: the listeners hear of it, no event is made of it", async () => {
  const seen: string[] = [];
  globalThis.fetch = (async () =>
    streamOf(`${message(3)}event: dropped\ndata: {"dropped":12}\n\n${message(16)}`)) as unknown as typeof fetch;
  const offResync = onResync((missed) => seen.push(`resync, missed ${missed}`));
  const ctl = new AbortController();
  openEventStream(
    (e) => seen.push(`stream event ${e.id}`),
    () => {},
    ctl.signal,
  );
  for (let i = 0; i < 100 && seen.length < 4; i++) await Bun.sleep(5);
  ctl.abort();
  offResync();
  expect(seen).toEqual(["resync, missed true", "stream event 3", "resync, missed true", "stream event 16"]);
});
