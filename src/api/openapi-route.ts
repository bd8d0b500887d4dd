/**
 * GET /api/v2/openapi.json, mounted outside the guard (open like Airflow's). The document and the zod
 * schemas it is built from load on the first request, not at start: building them costs ~40 ms that no
 * server start should pay for a page few clients ask for.
 */
import { Hono } from "hono";
import type { ApiEnv, ResolvedDeps } from "./deps";

export const OPENAPI_PATH = "/openapi.json";

export function openApiRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  let doc: Promise<Record<string, unknown>> | null = null;
  app.get(OPENAPI_PATH, async (c) => c.json(await (doc ??= import("./openapi").then((m) => m.buildOpenApiDocument(deps.version)))));
  return app;
}
