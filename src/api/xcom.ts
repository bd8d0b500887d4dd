/** XCom entries of a task instance: list (`~` for every task of the run) and get one with its value. */
import { Hono } from "hono";
import { z } from "zod";
import { NotFoundError } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagRunOr404, getTaskInstanceOr404 } from "./lookups";
import { serializeXCom } from "./serialize";
import { pagingQuery, parseQuery } from "./validate";

const ListXComQuery = z.object({ ...pagingQuery, xcom_key: z.string().min(1).optional() });
const GetXComQuery = z.object({ map_index: z.coerce.number().int().min(-1).optional() });

export function xcomRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const TI = "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id";

  app.get(`${TI}/xcomEntries`, async (c) => {
    const run = await getDagRunOr404(store, c.req.param("dag_id"), c.req.param("dag_run_id"));
    const taskId = c.req.param("task_id");
    if (taskId !== "~") await getTaskInstanceOr404(store, run.dag_id, run.run_id, taskId);
    const q = parseQuery(c, ListXComQuery);
    const page = await store.listXComs({
      dag_id: run.dag_id,
      run_id: run.run_id,
      task_id: taskId === "~" ? undefined : taskId,
      key: q.xcom_key,
      limit: q.limit,
      offset: q.offset,
      order_by: q.order_by,
    });
    return c.json({ xcom_entries: page.items.map((x) => serializeXCom(x, run, false)), total_entries: page.total });
  });

  app.get(`${TI}/xcomEntries/:xcom_key`, async (c) => {
    const run = await getDagRunOr404(store, c.req.param("dag_id"), c.req.param("dag_run_id"));
    const ti = await getTaskInstanceOr404(store, run.dag_id, run.run_id, c.req.param("task_id"));
    const key = c.req.param("xcom_key");
    const q = parseQuery(c, GetXComQuery);
    const x = await store.getXCom({ dag_id: run.dag_id, run_id: run.run_id, task_id: ti.task_id, key, map_index: q.map_index });
    if (!x) throw new NotFoundError(`XCom entry with key: \`${key}\` not found for task ${ti.task_id} of run ${run.run_id}`);
    return c.json(serializeXCom(x, run, true));
  });

  return app;
}
