import { describe, expect, test } from "bun:test";
import { declaredLength, formatLimit, readBodyLimited } from "../../../src/rpc/body-limit";

/** A body that records how many chunks were pulled from it, and never ends unless `chunks` is given. */
function countingBody(chunkBytes: number, chunks = Infinity) {
  const seen = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (seen.pulls >= chunks) return c.close();
        seen.pulls++;
        c.enqueue(new Uint8Array(chunkBytes).fill(7));
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  ); // nothing is pulled until someone reads
  return { stream, seen };
}

const post = (body: ReadableStream<Uint8Array> | Uint8Array | null, headers: Record<string, string> = {}) =>
  new Request("http://x/", { method: "POST", body, headers, duplex: "half" } as RequestInit);

describe("readBodyLimited", () => {
  test("a Content-Length above the limit is refused before a byte is read", async () => {
    const { stream, seen } = countingBody(1024);
    const r = await readBodyLimited(post(stream, { "content-length": "20971520" }), 4096);
    expect(r).toEqual({ ok: false, seen: "Content-Length 20971520" });
    expect(seen.pulls).toBe(0);
  });

  test("an endless chunked body is abandoned just past the limit", async () => {
    const { stream, seen } = countingBody(1024);
    const r = await readBodyLimited(post(stream), 4096);
    expect(r).toEqual({ ok: false, seen: "more than 4096 bytes received" });
    expect(seen.pulls).toBeLessThanOrEqual(6); // what the stream buffered ahead, not the whole body
    expect(seen.cancelled).toBe(true);
  });

  test("a body at the limit is read whole", async () => {
    const { stream } = countingBody(1024, 4);
    const r = await readBodyLimited(post(stream), 4096);
    expect(r.ok && r.bytes.byteLength).toBe(4096);
    expect(r.ok && r.bytes.every((b) => b === 7)).toBe(true);
  });

  test("no body is an empty body", async () => {
    const r = await readBodyLimited(new Request("http://x/", { method: "POST" }), 10);
    expect(r.ok && r.bytes.byteLength).toBe(0);
  });
});

test("declaredLength reads only a plain decimal Content-Length", () => {
  expect(declaredLength(new Headers({ "content-length": "42" }))).toBe(42);
  expect(declaredLength(new Headers({ "content-length": "4e9" }))).toBeNull();
  expect(declaredLength(new Headers())).toBeNull();
});

test("formatLimit names round sizes in binary units", () => {
  expect(formatLimit(4 * 1024 * 1024)).toBe("4 MiB");
  expect(formatLimit(512 * 1024)).toBe("512 KiB");
  expect(formatLimit(1000)).toBe("1000 bytes");
});
