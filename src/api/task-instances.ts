/** Task instances of a run: list and get (Airflow's …/dagRuns/{dag_run_id}/taskInstances…). */
import { Hono } from "hono";
import { z } from "zod";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagRunOr404, getTaskInstanceOr404 } from "./lookups";
import { serializeTaskInstance } from "./serialize";
import { mapOrderBy, pagingQuery, parseQuery } from "./validate";

const ListTisQuery = z.object(pagingQuery);
const TI_ORDER_ALIASES = { dag_run_id: "run_id", queued_when: "queued_at" };

export function taskInstanceRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const RUN = "/dags/:dag_id/dagRuns/:dag_run_id";

  app.get(`${RUN}/taskInstances`, async (c) => {
    const run = await getDagRunOr404(store, c.req.param("dag_id"), c.req.param("dag_run_id"));
    const q = parseQuery(c, ListTisQuery);
    const page = await store.listTaskInstances(run.dag_id, run.run_id, {
      limit: q.limit,
      offset: q.offset,
      order_by: mapOrderBy(q.order_by, TI_ORDER_ALIASES),
    });
    return c.json({ task_instances: page.items.map((ti) => serializeTaskInstance(ti, run)), total_entries: page.total });
  });

  app.get(`${RUN}/taskInstances/:task_id`, async (c) => {
    const run = await getDagRunOr404(store, c.req.param("dag_id"), c.req.param("dag_run_id"));
    const ti = await getTaskInstanceOr404(store, run.dag_id, run.run_id, c.req.param("task_id"));
    return c.json(serializeTaskInstance(ti, run));
  });

  return app;
}
