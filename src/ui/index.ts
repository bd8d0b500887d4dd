/**
 * The web UI's server half: serves the Preact app that scripts/build-ui.ts bundles into
 * `generated/ui-bundle.gen.js` (not committed; the compiled binary embeds it). Pages (`/`, `/dags/…`, …)
 * all answer the same index.html and the app routes in the browser; assets live under
 * `/assets/app.<hash>.js|css`, cached for a year because their name changes with their content.
 * Without a bundle (running from source before building it) every page answers 503 saying how to build.
 *
 * @example app.route("/", uiRoutes()); // in the API, before its 404 handler
 */
import { Hono, type Env } from "hono";
import { indexHtml, missingBundlePage } from "./pages-html";

export interface UiBundle {
  js: string;
  css: string;
  /** Content hash of js + css: part of the asset names. */
  hash: string;
}

/** Paths the single-page app owns (each answers index.html); everything else stays the API's. */
export const UI_PAGE_PATHS = ["/", "/login", "/dags", "/dags/*", "/variables", "/connections", "/pools", "/users", "/audit"] as const;

/** Every path the UI mounts: its pages and its assets. Open (the page logs in through the API), and no API operation. */
export const UI_ROUTE_PATHS: readonly string[] = [...UI_PAGE_PATHS, "/assets/:name"];

const IMMUTABLE = "public, max-age=31536000, immutable";
const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

/** The bundle the build step generated, or null when there is none (running from source without building it). */
async function loadBundle(): Promise<UiBundle | null> {
  try {
    return (await import("./generated/ui-bundle.gen.js")).bundle;
  } catch {
    return null;
  }
}

interface Served {
  bundle: UiBundle;
  html: string;
  gzip: Map<string, Uint8Array>;
}

/** Routes to mount at `/` of the HTTP server. `load` is for tests that serve a bundle of their own. */
export function uiRoutes<E extends Env>(load: () => Promise<UiBundle | null> = loadBundle): Hono<E> {
  const app = new Hono<E>();
  let served: Promise<Served | null> | null = null;
  const get = () =>
    (served ??= load().then((bundle) => (bundle ? { bundle, html: indexHtml(bundle.hash), gzip: new Map<string, Uint8Array>() } : null)));

  const page = async (c: { req: { header(name: string): string | undefined } }) => {
    const s = await get();
    if (!s)
      return new Response(missingBundlePage(), {
        status: 503,
        headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
      });
    return send(s, "index.html", s.html, "text/html; charset=utf-8", "no-cache", c.req.header("accept-encoding"));
  };
  for (const path of UI_PAGE_PATHS) app.get(path, page);

  app.get("/assets/:name", async (c) => {
    const s = await get();
    const name = c.req.param("name");
    if (!s) return c.text("the web UI is not built: run bun scripts/build-ui.ts", 404);
    const { js, css, hash } = s.bundle;
    if (name === `app.${hash}.js`) return send(s, name, js, "text/javascript; charset=utf-8", IMMUTABLE, c.req.header("accept-encoding"));
    if (name === `app.${hash}.css`) return send(s, name, css, "text/css; charset=utf-8", IMMUTABLE, c.req.header("accept-encoding"));
    // An old tab asking for the assets of a previous build: a reload fetches the new index.html.
    return c.text(`no asset ${name} in this build (it serves app.${hash}.js and app.${hash}.css); reload the page`, 404);
  });
  return app;
}

/** The body, gzipped once and kept when the client accepts gzip (the bundle is text and shrinks ~3x). */
function send(s: Served, key: string, body: string, type: string, cache: string, acceptEncoding: string | undefined): Response {
  const headers: Record<string, string> = { "content-type": type, "cache-control": cache, vary: "accept-encoding", ...SECURITY_HEADERS };
  if (!acceptEncoding || !/\bgzip\b/.test(acceptEncoding)) return new Response(body, { headers });
  let gz = s.gzip.get(key);
  if (!gz) s.gzip.set(key, (gz = Bun.gzipSync(new TextEncoder().encode(body))));
  return new Response(gz as Uint8Array<ArrayBuffer>, { headers: { ...headers, "content-encoding": "gzip" } });
}
