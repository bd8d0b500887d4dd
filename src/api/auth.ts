/** POST /auth/token: username + password → a user JWT (Airflow's simple auth manager endpoint). */
import { Hono } from "hono";
import { z } from "zod";
import { authenticate } from "../auth";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError, RequestValidationError, zodIssuesToRequestIssues } from "./errors";
import { parseBody } from "./validate";

const LoginBody = z.object({ username: z.string().min(1), password: z.string().min(1) });

export function authRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.post("/auth/token", async (c) => {
    if (!deps.tokens)
      throw new ApiError(400, "authentication is disabled on this server (--auth=none): call the API without a token");
    const body = await readLogin(c.req.header("content-type"), c);
    const user = await authenticate(deps.store, body.username, body.password);
    if (!user) throw new ApiError(401, "Invalid username or password", { "WWW-Authenticate": "Bearer" });
    const access_token = await deps.tokens.issue({ username: user.username, role: user.role }, deps.now());
    return c.json({ access_token, token_type: "bearer" }, 201);
  });
  return app;
}

/** JSON, or the OAuth2 password flow's form encoding that Swagger-style clients send. */
async function readLogin(contentType: string | undefined, c: Parameters<typeof parseBody>[0]) {
  if (!contentType?.includes("application/x-www-form-urlencoded")) return parseBody(c, LoginBody);
  const form = Object.fromEntries(new URLSearchParams(await c.req.text()));
  const r = LoginBody.safeParse(form, { reportInput: true });
  if (!r.success) throw new RequestValidationError(zodIssuesToRequestIssues("body", r.error.issues));
  return r.data;
}
