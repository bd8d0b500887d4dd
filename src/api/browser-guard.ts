/**
 * What a web page in the user's browser may not make the API do. The API reads its caller from a bearer token,
 * which a page of another site never has, except under `--auth none`, where every route is open to whoever
 * reaches the port. Two attacks reach it from an ordinary page the user happens to visit:
 * - a cross-site request (a form post, or `fetch` with a text/plain body, both sent without a CORS preflight)
 *   that triggers a run, writes a variable or deletes a DAG: a write is refused by its `Sec-Fetch-Site`, or where
 *   a browser sends none, by an `Origin` that is not the server's own address (curl and SDKs send neither; the
 *   web UI is same-origin);
 * - DNS rebinding (the attacker's name re-resolved to 127.0.0.1, so its page reads the API as its own origin):
 *   a request must name a loopback host, as every client on this machine does.
 * With tokens (`--auth jwt`) neither attack gets past the token check, and a reverse proxy may rewrite Host, so
 * the guard is mounted only under `--auth none` (which listens on loopback only, config.ts).
 */
import type { MiddlewareHandler } from "hono";
import { isLoopback } from "../domain";
import { ApiError } from "./errors";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The host part of a Host header value (`[::1]:8080` → `[::1]`, `localhost:8080` → `localhost`). */
export function hostOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon === -1 ? h : h.slice(0, colon);
}

/** Whether a Host header names this machine's loopback (`localhost`, `*.localhost`, 127.x.y.z, `[::1]`). Pure. */
export function isLoopbackHost(hostHeader: string): boolean {
  const host = hostOf(hostHeader).replace(/\.$/, "");
  return isLoopback(host) || host.endsWith(".localhost");
}

/**
 * Why a write is cross-site, or null when it is not: the browser's `Sec-Fetch-Site` when it sends one (only
 * `same-origin` and `none`, a typed address, pass), else an `Origin` (the opaque `null` included) whose host and
 * port are not the request's own Host. Pure.
 */
export function crossSiteReason(method: string, headers: { origin?: string; host?: string; fetchSite?: string }): string | null {
  if (SAFE_METHODS.has(method)) return null;
  if (headers.fetchSite !== undefined)
    return headers.fetchSite === "same-origin" || headers.fetchSite === "none"
      ? null
      : `the browser marked it Sec-Fetch-Site: ${headers.fetchSite}${headers.origin ? ` (from ${headers.origin})` : ""}`;
  if (headers.origin === undefined) return null;
  let originHost: string | null = null;
  try {
    originHost = headers.origin === "null" ? null : new URL(headers.origin).host.toLowerCase();
  } catch {
    originHost = null;
  }
  if (originHost !== null && originHost === headers.host?.trim().toLowerCase()) return null;
  return `it came from the page ${headers.origin}, not from this server's own address ${headers.host ?? "(no Host header)"}`;
}

/** The middleware for `--auth none`: a request to a name that is not loopback, or a cross-site write, is a 403. */
export function openAccessGuard(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host");
    if (host !== undefined && !isLoopbackHost(host))
      throw new ApiError(
        403,
        `Forbidden: this server runs with --auth none and answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1]), not to "${host}"; open it as http://127.0.0.1:<port>, or serve it with --auth jwt to reach it by another name`,
      );
    const reason = crossSiteReason(c.req.method, {
      origin: c.req.header("origin"),
      host,
      fetchSite: c.req.header("sec-fetch-site"),
    });
    if (reason)
      throw new ApiError(
        403,
        `Forbidden: a cross-site ${c.req.method} is refused (${reason}); a web page of another site may not change Leoflow. Call the API from a script or a client (they send no Origin), or use the web UI at the server's own address`,
      );
    return next();
  };
}
