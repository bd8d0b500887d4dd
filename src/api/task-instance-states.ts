/**
 * GET /api/v2/leoflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstanceStates: a run's task instances with only what
 * the DAG page's grid and graph draw (task id, map index, state, try, tries allowed, start, end, duration), in the
 * task instance list's order, in pages of up to MAX_STATES_PAGE. The list's TaskInstanceResponse is ~960 bytes of
 * JSON a task instance, with its DAG version and a UUID for each; this is ~180, and opening the page of a DAG of
 * 10,000 tasks reads 25 runs of them.
 */
import { Hono } from "hono";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagRunOr404 } from "./lookups";
import { serializeTaskInstanceState } from "./serialize";
import { teamOf } from "./team";
import { pageLimit, pagingQuery, parseQuery } from "./validate";
import { lazySchema } from "../domain";
import { z } from "zod";

/**
 * Larger pages than the list's 1,000: each page of a run is a read that orders the whole run (and counts it), so a
 * 10,000-task run in one page is one of them instead of ten.
 */
export const MAX_STATES_PAGE = 10_000;

export const TaskInstanceStatesQuery = lazySchema(() =>
  z.object({ limit: pageLimit(MAX_STATES_PAGE, MAX_STATES_PAGE), offset: pagingQuery.offset }),
);

export function taskInstanceStateRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  app.get("/leoflow/dags/:dag_id/dagRuns/:dag_run_id/taskInstanceStates", async (c) => {
    const dagId = c.req.param("dag_id");
    const runId = c.req.param("dag_run_id");
    const q = parseQuery(c, TaskInstanceStatesQuery);
    await getDagRunOr404(store, teamOf(c), dagId, runId);
    const page = await store.findTaskInstances(teamOf(c), { dag_id: dagId, run_id: runId, limit: q.limit, offset: q.offset });
    return c.json({ task_instances: page.items.map(serializeTaskInstanceState), total_entries: page.total });
  });
  return app;
}
