/**
 * InlineHttpExecutor against a real local HTTP server (Bun.serve on port 0): status codes, retries with
 * backoff and Retry-After, slow responses, refused and reset connections, large bodies, JSON and text.
 * Sleeps between retries are injected (recorded, not waited), so nothing here depends on timing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TooLargeError } from "../../src/domain";
import { InlineHttpError, InlineHttpExecutor, type AttemptReport, type HttpCall } from "../../src/executors";

let server: ReturnType<typeof Bun.serve>;
let base = "";
const hits = new Map<string, number>();
const seen: { path: string; method: string; headers: Record<string, string>; body: string }[] = [];

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    idleTimeout: 30,
    async fetch(req) {
      const url = new URL(req.url);
      const n = (hits.get(url.pathname) ?? 0) + 1;
      hits.set(url.pathname, n);
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => void (headers[k] = v));
      seen.push({ path: url.pathname + url.search, method: req.method, headers, body: await req.text() });
      switch (url.pathname) {
        case "/json":
          return Response.json({ ok: true, n });
        case "/text":
          return new Response("plain words", { headers: { "content-type": "text/plain" } });
        case "/created":
          return new Response("made", { status: 201 });
        case "/missing":
          return new Response("no such job", { status: 404 });
        case "/flaky": // 503, 503, then 200
          return n < 3 ? new Response("busy", { status: 503 }) : Response.json({ after: n });
        case "/always500":
          return new Response("boom", { status: 500 });
        case "/ratelimited":
          return n < 2 ? new Response("slow down", { status: 429, headers: { "retry-after": "7" } }) : new Response("ok");
        case "/ratelimited-date": {
          const at = new Date(Date.now() + 60_000).toUTCString();
          return n < 2 ? new Response("", { status: 503, headers: { "retry-after": at } }) : new Response("ok");
        }
        case "/slow":
          await Bun.sleep(2000);
          return new Response("late");
        case "/large":
          return new Response("x".repeat(300_000));
        case "/gzip-large":
          // 300 KB of "z" gzipped to a few hundred bytes: the declared length is the compressed one.
          return new Response(Bun.gzipSync(new TextEncoder().encode("z".repeat(300_000))), {
            headers: { "content-encoding": "gzip", "content-type": "text/plain" },
          });
        case "/stream-large":
          // No content-length: the limit must hold while reading.
          return new Response(
            new ReadableStream({
              start(c) {
                for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode("y".repeat(50_000)));
                c.close();
              },
            }),
          );
        default:
          return new Response("?", { status: 400 });
      }
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

function setup(opts: { maxResponseBytes?: number } = {}) {
  const delays: number[] = [];
  const attempts: AttemptReport[] = [];
  const http = new InlineHttpExecutor({
    sleep: async (ms) => void delays.push(ms),
    backoff: { baseMs: 1000, maxMs: 30_000, maxRetryAfterMs: 120_000 },
    maxResponseBytes: opts.maxResponseBytes,
  });
  const run = (over: Partial<HttpCall> & { url: string }, signal = new AbortController().signal) =>
    http.run({ method: "GET", safeUrl: over.url, headers: {}, timeoutSeconds: 5, retries: 3, ...over }, signal, (a) => attempts.push(a));
  return { delays, attempts, run };
}

describe("InlineHttpExecutor on a real server", () => {
  test("a JSON response comes back with its status, content type and body in one attempt", async () => {
    const { run, attempts } = setup();
    const res = await run({ url: `${base}/json` });
    expect(res).toMatchObject({ status: 200, attempts: 1, contentType: "application/json;charset=utf-8" });
    expect(JSON.parse(res.body)).toMatchObject({ ok: true });
    expect(attempts).toMatchObject([{ attempt: 1, status: 200, error: null, retryInMs: null }]);
  });

  test("text, method, headers and body reach the server", async () => {
    const { run } = setup();
    const res = await run({
      url: `${base}/text?x=1`,
      method: "POST",
      headers: { "x-test": "yes", "content-type": "text/plain" },
      body: "hello",
    });
    expect(res.body).toBe("plain words");
    const last = seen.findLast((s) => s.path === "/text?x=1")!;
    expect(last).toMatchObject({ method: "POST", body: "hello" });
    expect(last.headers["x-test"]).toBe("yes");
    expect(last.headers["user-agent"]).toBe("leoflow");
  });

  test("expected_status: 201 is the success asked for", async () => {
    const { run } = setup();
    expect((await run({ url: `${base}/created`, expectedStatus: [201] })).status).toBe(201);
  });

  test("a 404 fails at once, not retried, and says why", async () => {
    const { run, delays } = setup();
    const err = (await run({ url: `${base}/missing` }).catch((e) => e)) as InlineHttpError;
    expect(err).toBeInstanceOf(InlineHttpError);
    expect(err.attempts).toBe(1);
    expect(err.status).toBe(404);
    expect(err.message).toBe(
      `GET ${base}/missing returned HTTP 404, expected 2xx; not retried (a 4xx other than 429 is final): no such job`,
    );
    expect(delays).toEqual([]);
  });

  test("5xx is retried with exponential backoff until it succeeds", async () => {
    const { run, delays, attempts } = setup();
    const res = await run({ url: `${base}/flaky` });
    expect(res.attempts).toBe(3);
    expect(JSON.parse(res.body)).toEqual({ after: 3 });
    expect(delays).toEqual([1000, 2000]);
    expect(attempts.map((a) => [a.status, a.retryInMs])).toEqual([
      [503, 1000],
      [503, 2000],
      [200, null],
    ]);
  });

  test("retries run out: the error names the attempts and the last answer", async () => {
    const { run, delays } = setup();
    const err = (await run({ url: `${base}/always500`, retries: 2 }).catch((e) => e)) as InlineHttpError;
    expect(err.message).toBe(`GET ${base}/always500 failed after 3 attempts: HTTP 500: boom`);
    expect(delays).toEqual([1000, 2000]);
  });

  test("429 honours Retry-After in seconds, 503 an HTTP date", async () => {
    const a = setup();
    expect((await a.run({ url: `${base}/ratelimited` })).attempts).toBe(2);
    expect(a.delays).toEqual([7000]);
    const b = setup();
    await b.run({ url: `${base}/ratelimited-date` });
    expect(b.delays[0]).toBeGreaterThan(50_000);
    expect(b.delays[0]).toBeLessThanOrEqual(60_000);
  });

  test("a slow response times out per attempt and is retried", async () => {
    const { run, attempts } = setup();
    const err = (await run({ url: `${base}/slow`, timeoutSeconds: 0.1, retries: 1 }).catch((e) => e)) as InlineHttpError;
    expect(err.message).toBe(`GET ${base}/slow failed after 2 attempts: timed out after 0.1s`);
    expect(attempts.map((a) => a.error)).toEqual(["timed out after 0.1s", "timed out after 0.1s"]);
  });

  test("a refused connection is retried, then reported", async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response("") });
    const url = `http://127.0.0.1:${closed.port}/x`;
    closed.stop(true);
    const { run, attempts } = setup();
    const err = (await run({ url, retries: 2 }).catch((e) => e)) as InlineHttpError;
    expect(err).toBeInstanceOf(InlineHttpError);
    expect(err.attempts).toBe(3);
    expect(err.message).toStartWith(`GET ${url} failed after 3 attempts: `);
    expect(attempts.every((a) => a.status === null && !!a.error)).toBe(true);
  });

  test("a connection reset by the server is retried, then reported", async () => {
    const tcp = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s) => s.terminate(), open() {} } });
    const url = `http://127.0.0.1:${tcp.port}/reset`;
    const { run, attempts } = setup();
    const err = (await run({ url, retries: 1 }).catch((e) => e)) as InlineHttpError;
    tcp.stop(true);
    expect(err.attempts).toBe(2);
    expect(attempts.map((a) => a.status)).toEqual([null, null]);
    expect(err.message).toStartWith(`GET ${url} failed after 2 attempts: `);
  });

  test("a body over the limit is a TooLargeError, with or without content-length", async () => {
    const { run } = setup({ maxResponseBytes: 100_000 });
    await expect(run({ url: `${base}/large` })).rejects.toBeInstanceOf(TooLargeError);
    await expect(run({ url: `${base}/stream-large` })).rejects.toThrow(`response body of GET ${base}/stream-large is over 100000 bytes`);
    // Compressed: a short declared length, a body that inflates past the limit.
    await expect(run({ url: `${base}/gzip-large` })).rejects.toThrow(`response body of GET ${base}/gzip-large is over 100000 bytes`);
  });

  test("aborting the signal (task deadline, shutdown) stops the call without retrying", async () => {
    const { run, delays } = setup();
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new Error("task timed out after 0.1s")), 100);
    const err = (await run({ url: `${base}/slow` }, ctrl.signal).catch((e) => e)) as InlineHttpError;
    expect(err.message).toStartWith("task timed out after 0.1s during attempt 1");
    expect(delays).toEqual([]);
  });
});
