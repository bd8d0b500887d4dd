/** GET /api/v2/version and /api/v2/monitor/health: open to everyone, for load balancers and humans. */
import { Hono } from "hono";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { healthReport } from "./health";

export function monitorRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/version", (c) => c.json({ version: deps.version, git_version: null }));
  // Like Airflow, health answers 200 and reports each component's status in the body.
  app.get("/monitor/health", async (c) => c.json(await healthReport(deps)));
  return app;
}
