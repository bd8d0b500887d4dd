/**
 * Large JSON responses are gzipped for clients that say they accept it, as Airflow's API server does (FastAPI's
 * GZipMiddleware): a DAG of 10,000 tasks is 6.5 MB of task list, a long log's full content several MB, and a
 * browser across a network waits for every byte. Level 1, because the thread that compresses also schedules:
 * JSON goes at hundreds of MB/s there and still shrinks 10–40×. Small bodies, the event stream
 * (text/event-stream), metrics' text and responses already encoded pass as they are, and so does everything for a
 * client on this host (loopback), for whom compressing only costs: the bench's 100,000-line log read ~10% slower
 * with it. Behind a proxy on this host, `--trusted-proxy-hops` names the real client (or the proxy compresses).
 */
import type { MiddlewareHandler } from "hono";
import { isLoopbackPeer } from "../domain";
import { peerAddress } from "./auth";
import { clientAddress } from "./login-throttle";

/** Smaller JSON bodies are sent as they are: a gzip header and a round of the compressor cost more than they save. */
export const COMPRESS_MIN_BYTES = 32 * 1024;

export function compressLargeJson(trustedProxyHops = 0): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const res = c.res;
    if (!/\bgzip\b/i.test(c.req.header("accept-encoding") ?? "")) return;
    if (isLoopbackPeer(clientAddress(peerAddress(c), c.req.header("x-forwarded-for"), trustedProxyHops))) return;
    if (res.headers.has("content-encoding") || !res.headers.get("content-type")?.startsWith("application/json") || !res.body) return;
    const body = new Uint8Array(await res.arrayBuffer());
    const headers = new Headers(res.headers);
    headers.append("vary", "accept-encoding");
    if (body.length >= COMPRESS_MIN_BYTES) {
      headers.set("content-encoding", "gzip");
      headers.delete("content-length");
    }
    // Hono merges the old response's headers into a new one set over it (a stale content-length, the old vary):
    // these headers are already the old ones with ours, so the old response goes first.
    c.res = undefined as unknown as Response;
    c.res = new Response(body.length >= COMPRESS_MIN_BYTES ? Bun.gzipSync(body, { level: 1 }) : body, { status: res.status, headers });
  };
}
