/**
 * Airflow operations on runs and task instances for concepts Leoflow does not have, answered as Airflow
 * answers when there is nothing of the kind: a run's upstream asset events (no run is asset-triggered:
 * empty), a task's extra links (none), and an external log URL (the logs live in the store: 400, as
 * Airflow says when its log handler has no external viewer).
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { ValidationError, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagRunOr404, getTaskInstanceOr404 } from "./lookups";
import { teamOf } from "./team";
import { MapIndex } from "./task-instances";
import { parsePathParam, parseQuery } from "./validate";

const MapIndexQuery = lazySchema(() => z.object({ map_index: MapIndex.optional() }));
const TryNumber = lazySchema(() => z.coerce.number({ error: "try_number must be an integer" }).int("try_number must be an integer"));

export function taskInstanceExtraRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const RUN = "/dags/:dag_id/dagRuns/:dag_run_id";

  app.get(`${RUN}/upstreamAssetEvents`, async (c) => {
    await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    return c.json({ asset_events: [], total_entries: 0 });
  });

  const loadTi = async (c: Context<ApiEnv>) => {
    const q = parseQuery(c, MapIndexQuery);
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id")!, c.req.param("dag_run_id")!);
    const ti = await getTaskInstanceOr404(store, run.team, run.dag_id, run.run_id, c.req.param("task_id")!, q.map_index ?? -1);
    return ti;
  };

  app.get(`${RUN}/taskInstances/:task_id/links`, async (c) => {
    await loadTi(c);
    return c.json({ extra_links: {}, total_entries: 0 });
  });

  app.get(`${RUN}/taskInstances/:task_id/externalLogUrl/:try_number`, async (c) => {
    const tryNumber = parsePathParam("try_number", c.req.param("try_number") ?? "", TryNumber);
    const ti = await loadTi(c);
    throw new ValidationError(
      `Task log handler does not support external logs: Leoflow keeps the logs of ${ti.task_id} in its store; read GET …/taskInstances/${ti.task_id}/logs/${tryNumber}`,
    );
  });

  return app;
}
