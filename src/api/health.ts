/**
 * The body of GET /api/v2/monitor/health, without hono: the server answers it from the moment it binds,
 * while the rest of the API (hono, its routes and schemas) loads in the background (app.ts). Light on
 * purpose: it imports nothing but domain and the store's port types.
 */
import { DEFAULT_TEAM } from "../domain";
import type { Logger } from "../observability";
import type { Store } from "../store";

/** The route's path (API_PREFIX + /monitor/health), for the server's answer before the API has loaded. */
export const HEALTH_PATH = "/api/v2/monitor/health";

export interface HealthReport {
  metadatabase: { status: "healthy" | "unhealthy" };
  scheduler: { status: "healthy" | "unhealthy"; latest_scheduler_heartbeat: string | null };
  triggerer: { status: null; latest_triggerer_heartbeat: null };
  dag_processor: null;
}

type SchedulerHealthReport = { status: "healthy" | "unhealthy"; latest_scheduler_heartbeat: string | null };

export interface HealthSources {
  store: Pick<Store, "listImportErrors">;
  /** A Pro follower reads the leader's heartbeat from the store (scheduler/cluster-health.ts): maybe a promise. */
  scheduler: { health(): SchedulerHealthReport | Promise<SchedulerHealthReport> };
  logger: Pick<Logger, "warn">;
}

/** Like Airflow's: each component's status (the route answers 200 whatever they are). */
export async function healthReport(deps: HealthSources): Promise<HealthReport> {
  let metadatabase: "healthy" | "unhealthy" = "healthy";
  try {
    // Any cheap read proves the store answers; the team default always exists.
    await deps.store.listImportErrors(DEFAULT_TEAM, { limit: 1 });
  } catch (e) {
    metadatabase = "unhealthy";
    deps.logger.warn("health check: store call failed", { error: e });
  }
  let scheduler: SchedulerHealthReport;
  try {
    scheduler = await deps.scheduler.health();
  } catch (e) {
    scheduler = { status: "unhealthy", latest_scheduler_heartbeat: null };
    deps.logger.warn("health check: the scheduler's heartbeat could not be read", { error: e });
  }
  return {
    metadatabase: { status: metadatabase },
    scheduler: { status: scheduler.status, latest_scheduler_heartbeat: scheduler.latest_scheduler_heartbeat },
    triggerer: { status: null, latest_triggerer_heartbeat: null },
    dag_processor: null,
  };
}

/** What /health says of the scheduler before it is built (scheduler/loop.ts: a loop that does not lead says the same). */
const NO_SCHEDULER_YET = { status: "healthy", latest_scheduler_heartbeat: null } as const;

/**
 * The server's answer while it starts (app.ts): /health as soon as the store is migrated, the scheduler
 * reported, until it exists, as a replica that does not lead reports it; every other request waits until
 * `ready` names the handler that answers it once everything is wired. `healthWaits`: /health waits too (a
 * first start, whose admin password is generated and printed while it wires: healthy then means it is out).
 */
export function startingHandler(
  deps: Omit<HealthSources, "scheduler"> & { scheduler: () => HealthSources["scheduler"] | undefined; healthWaits?: boolean },
): {
  fetch(req: Request): Promise<Response>;
  ready(handler: (req: Request) => Response | Promise<Response>): void;
} {
  const wired = Promise.withResolvers<(req: Request) => Response | Promise<Response>>();
  const sources: HealthSources = { ...deps, scheduler: { health: () => deps.scheduler()?.health() ?? NO_SCHEDULER_YET } };
  return {
    fetch: async (req) =>
      !deps.healthWaits && req.method === "GET" && new URL(req.url).pathname === HEALTH_PATH
        ? Response.json(await healthReport(sources))
        : wired.promise.then((handler) => handler(req)),
    ready: (handler) => wired.resolve(handler),
  };
}
