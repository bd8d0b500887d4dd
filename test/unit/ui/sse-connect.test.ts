/**
 * The UI's event stream tells views when it connects, so a view that read its data before (a task page loading
 * while its task starts) reloads and does not wait for the task's next event. `fetch` is a stand-in for the
 * server's /api/v2/leoflow/events here (the browser test drives the real one).
 */
import { afterEach, expect, test } from "bun:test";
import { onConnected, openEventStream } from "../../../src/ui/app/sse";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

test("each connection calls the connected listeners before the events it brings; an unsubscribed one is not called", async () => {
  const seen: string[] = [];
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(
        new TextEncoder().encode(
          `id: 7\nevent: task_instance.state_changed\ndata: ${JSON.stringify({ id: 7, type: "x", task_id: "t" })}\n\n`,
        ),
      );
    },
  });
  globalThis.fetch = (async () => new Response(body, { headers: { "content-type": "text/event-stream" } })) as unknown as typeof fetch;
  const offConnected = onConnected(() => seen.push("connected"));
  const offGone = onConnected(() => seen.push("unsubscribed"));
  offGone();
  const ctl = new AbortController();
  const status: boolean[] = [];
  openEventStream(
    (e) => seen.push(`stream event ${e.id}`),
    (live) => status.push(live),
    ctl.signal,
  );
  for (let i = 0; i < 100 && seen.length < 2; i++) await Bun.sleep(5);
  ctl.abort();
  offConnected();
  expect(status[0]).toBe(true);
  expect(seen).toEqual(["connected", "stream event 7"]);
});
