/**
 * POST /auth/token: username + password → a user JWT (Airflow's simple auth manager endpoint). Repeated
 * failures per user and address are slowed, then refused with 429 and Retry-After (login-throttle.ts).
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import { lazySchema } from "../domain";
import { authenticate } from "../auth";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError, RequestValidationError, zodIssuesToRequestIssues } from "./errors";
import { LoginThrottle, clientAddress } from "./login-throttle";
import { assertStorableBody, parseBody } from "./validate";

export const LoginBody = lazySchema(() => z.object({ username: z.string().min(1), password: z.string().min(1) }));

export function authRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const throttle = new LoginThrottle();
  app.post("/auth/token", async (c) => {
    if (!deps.tokens) throw new ApiError(400, "authentication is disabled on this server (--auth=none): call the API without a token");
    const body = await readLogin(c.req.header("content-type"), c);
    const address = clientAddress(peerAddress(c), c.req.header("x-forwarded-for"), deps.trustedProxyHops ?? 0);
    const wait = throttle.retryAfterSeconds(body.username, address, deps.now());
    if (wait > 0)
      throw new ApiError(429, `Too many failed logins from ${address}; try again in ${wait} s`, { "Retry-After": String(wait) });
    const user = await authenticate(deps.store, body.username, body.password);
    if (!user) {
      throttle.failed(body.username, address, deps.now());
      throw new ApiError(401, "Invalid username or password", { "WWW-Authenticate": "Bearer" });
    }
    throttle.succeeded(body.username, address);
    const access_token = await deps.tokens.issue({ username: user.username, role: user.role }, deps.now());
    return c.json({ access_token, token_type: "bearer" }, 201);
  });
  return app;
}

/** The socket peer, when the server passed itself as the fetch env (src/app.ts does); null in tests. */
export function peerAddress(c: Context): string | null {
  const server = c.env as { requestIP?: (req: Request) => { address: string } | null } | undefined;
  return typeof server?.requestIP === "function" ? (server.requestIP(c.req.raw)?.address ?? null) : null;
}

/** JSON, or the OAuth2 password flow's form encoding that Swagger-style clients send. */
async function readLogin(contentType: string | undefined, c: Context) {
  if (!contentType?.includes("application/x-www-form-urlencoded")) return parseBody(c, LoginBody);
  const form = Object.fromEntries(new URLSearchParams(await c.req.text()));
  assertStorableBody(form);
  const r = LoginBody.safeParse(form, { reportInput: true });
  if (!r.success) throw new RequestValidationError(zodIssuesToRequestIssues("body", r.error.issues));
  return r.data;
}
