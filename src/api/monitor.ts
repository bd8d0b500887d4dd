/** GET /api/v2/version and /api/v2/monitor/health: open to everyone, for load balancers and humans. */
import { Hono } from "hono";
import { DEFAULT_TEAM } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";

export function monitorRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/version", (c) => c.json({ version: deps.version, git_version: null }));
  app.get("/monitor/health", async (c) => {
    // Like Airflow, health answers 200 and reports each component's status in the body.
    let metadatabase: "healthy" | "unhealthy" = "healthy";
    try {
      // Any cheap read proves the store answers; the team default always exists.
      await deps.store.listImportErrors(DEFAULT_TEAM, { limit: 1 });
    } catch (e) {
      metadatabase = "unhealthy";
      deps.logger.warn("health check: store call failed", { error: e });
    }
    const scheduler = deps.scheduler.health();
    return c.json({
      metadatabase: { status: metadatabase },
      scheduler: { status: scheduler.status, latest_scheduler_heartbeat: scheduler.latest_scheduler_heartbeat },
      triggerer: { status: null, latest_triggerer_heartbeat: null },
      dag_processor: null,
    });
  });
  return app;
}
