/**
 * The HTTP API: Airflow 3's REST API v2 paths and shapes under /api/v2, plus POST /auth/token.
 *
 * @example
 * const api = createApi({ store, tokens: new UserTokens(secret), version: "0.1.0", scheduler });
 * Bun.serve({ fetch: api.fetch });
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { openAccessGuard } from "./browser-guard";
import { METRICS_CONTENT_TYPE, silentLogger } from "../observability";
import { eventRoutes } from "../events";
import { authRoutes } from "./auth";
import { backfillRoutes } from "./backfills";
import { dagRunRoutes } from "./dag-runs";
import { dagRunListRoutes } from "./dag-runs-list";
import { dagRunWaitRoutes } from "./dag-run-wait";
import { dagRoutes } from "./dags";
import { dagStructureRoutes } from "./dag-structure";
import { dagParseRoutes } from "./dag-parse";
import { dagStatsRoutes } from "./dag-stats";
import { dagVersionRoutes } from "./dag-versions";
import type { ApiDeps, ApiEnv, ResolvedDeps } from "./deps";
import { ApiError, handleError, handleNotFound } from "./errors";
import { importErrorRoutes } from "./import-errors";
import { auditLog } from "./audit";
import { configRoutes } from "./config";
import { eventLogRoutes } from "./event-logs";
import { logRoutes } from "./logs";
import { monitorRoutes } from "./monitor";
import { openApiRoutes } from "./openapi-route";
import { authorize, requireUser } from "./require-user";
import { userRoutes } from "./users";
import { taskInstanceRoutes } from "./task-instances";
import { taskInstanceStateRoutes } from "./task-instance-states";
import { taskInstanceTryRoutes } from "./task-instance-tries";
import { taskInstanceBulkRoutes } from "./task-instances-bulk";
import { taskInstanceExtraRoutes } from "./task-instance-extras";
import { xcomRoutes } from "./xcom";
import { variableRoutes } from "./variables";
import { connectionRoutes } from "./connections";
import { poolRoutes } from "./pools";
import { webhookRoutes } from "./webhooks";
import { clearRoutes } from "./clear";
import { markRoutes } from "./mark";
import { meRoutes } from "./me";
import { teamRoutes } from "./teams";
import { teamOf } from "./team";
import { uiRoutes } from "../ui";
import { compressLargeJson } from "./compress";

export const API_PREFIX = "/api/v2";
/** Largest request body accepted by default (`--api-max-body`; a trigger's conf is the biggest thing anyone sends). */
export const MAX_BODY_BYTES = 1024 * 1024;

export function createApi(input: ApiDeps): Hono<ApiEnv> {
  const deps: ResolvedDeps = { ...input, now: input.now ?? (() => new Date()), logger: input.logger ?? silentLogger };
  const app = new Hono<ApiEnv>();
  app.onError(handleError(deps.logger));
  app.notFound(handleNotFound);
  // Under --auth none every route is open: no web page of another site, nor a rebound DNS name, may use that.
  if (!deps.tokens) app.use("*", openAccessGuard());
  // Every route: refused by Content-Length before reading, or as soon as a streamed body passes the limit.
  // (The agent RPC never reaches this app; it has its own door and --rpc-max-body.)
  const maxBody = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  app.use(
    "*",
    bodyLimit({
      maxSize: maxBody,
      onError: () => {
        throw new ApiError(
          413,
          `request body is larger than the API limit of ${maxBody} bytes; send less (e.g. a smaller conf), or raise the server's --api-max-body (LEOFLOW_API_MAX_BODY)`,
        );
      },
    }),
  );

  // Large JSON answers gzipped for remote clients that accept it (compress.ts); the event stream and text pass as they are.
  app.use(`${API_PREFIX}/*`, compressLargeJson(deps.trustedProxyHops ?? 0));

  app.route("/", authRoutes(deps));
  // The web UI's pages and assets (open: the app logs in through POST /auth/token like any client).
  app.route("/", uiRoutes<ApiEnv>());
  // version and health stay open: load balancers and `leoflow version --server` call them without a token.
  app.route(API_PREFIX, monitorRoutes(deps));
  app.route(API_PREFIX, openApiRoutes(deps)); // GET /api/v2/openapi.json, open like Airflow's
  const metrics = deps.metrics;
  if (metrics) app.get("/metrics", async (c) => c.body(await metrics.scrape(), 200, { "content-type": METRICS_CONTENT_TYPE }));

  const guarded = new Hono<ApiEnv>();
  guarded.use("*", requireUser(deps), authorize(API_PREFIX));
  // After the checks, so only calls that were let in (and then succeeded) reach the audit log.
  guarded.use("*", auditLog(deps, API_PREFIX));
  for (const routes of [
    dagRoutes,
    dagStructureRoutes,
    dagVersionRoutes,
    dagStatsRoutes,
    dagParseRoutes,
    dagRunRoutes,
    dagRunListRoutes,
    dagRunWaitRoutes,
    taskInstanceRoutes,
    taskInstanceStateRoutes,
    taskInstanceTryRoutes,
    taskInstanceBulkRoutes,
    taskInstanceExtraRoutes,
    logRoutes,
    xcomRoutes,
    importErrorRoutes,
    eventLogRoutes,
    configRoutes,
    variableRoutes,
    connectionRoutes,
    backfillRoutes,
    poolRoutes,
    clearRoutes,
    markRoutes,
    userRoutes,
    teamRoutes,
    meRoutes,
    webhookRoutes,
  ])
    guarded.route("/", routes(deps));
  if (deps.events) guarded.route("/", eventRoutes<ApiEnv>(deps.events, teamOf));
  app.route(API_PREFIX, guarded);
  return app;
}
