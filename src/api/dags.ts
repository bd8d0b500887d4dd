/** DAGs: list, get, pause/unpause, details and tasks (Airflow's /api/v2/dags…). */
import { Hono } from "hono";
import { z } from "zod";
import { NotFoundError, ValidationError } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagOr404 } from "./lookups";
import { requireWriter } from "./require-user";
import { serializeDag, serializeDagDetails, serializeTask } from "./serialize";
import { mapOrderBy, pagingQuery, parseBody, parseQuery, queryBool } from "./validate";

const ListDagsQuery = z.object({
  ...pagingQuery,
  tags: z.array(z.string().min(1)).optional(),
  paused: queryBool.optional(),
  only_active: queryBool.optional(),
  /** Airflow 3's name for the inverse of only_active. */
  exclude_stale: queryBool.optional(),
});

const DAG_ORDER_ALIASES = { last_parsed_time: "last_parsed_at", dag_display_name: "dag_id" };

const DagPatchBody = z.object({ is_paused: z.boolean() }).strict();

export function dagRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/dags", async (c) => {
    const q = parseQuery(c, ListDagsQuery, ["tags"]);
    const page = await store.listDags({
      limit: q.limit,
      offset: q.offset,
      order_by: mapOrderBy(q.order_by ?? "dag_id", DAG_ORDER_ALIASES),
      tags: q.tags,
      paused: q.paused,
      only_active: q.only_active ?? q.exclude_stale ?? true,
    });
    return c.json({ dags: page.items.map(serializeDag), total_entries: page.total });
  });

  app.get("/dags/:dag_id", async (c) => c.json(serializeDag(await getDagOr404(store, c.req.param("dag_id")))));

  app.patch("/dags/:dag_id", requireWriter, async (c) => {
    const dagId = c.req.param("dag_id");
    const body = await parseBody(c, DagPatchBody);
    const dag = await store.setDagPaused(dagId, body.is_paused);
    if (!dag) throw new NotFoundError(`The Dag with ID: \`${dagId}\` was not found`);
    deps.logger.info(body.is_paused ? "DAG paused" : "DAG unpaused", { dag_id: dagId, by: c.get("user")?.username ?? null });
    if (!body.is_paused) deps.scheduler.wake();
    return c.json(serializeDag(dag));
  });

  app.get("/dags/:dag_id/details", async (c) => c.json(serializeDagDetails(await getDagOr404(store, c.req.param("dag_id")))));

  app.get("/dags/:dag_id/tasks", async (c) => {
    const dag = await getDagOr404(store, c.req.param("dag_id"));
    const { order_by } = parseQuery(c, z.object({ order_by: z.string().min(1).optional() }));
    const tasks = dag.spec.tasks.map((t) => serializeTask(t, dag.spec));
    if (order_by) sortByField(tasks, order_by);
    return c.json({ tasks, total_entries: tasks.length });
  });

  app.get("/dags/:dag_id/tasks/:task_id", async (c) => {
    const dag = await getDagOr404(store, c.req.param("dag_id"));
    const taskId = c.req.param("task_id");
    const task = dag.spec.tasks.find((t) => t.task_id === taskId);
    if (!task) throw new NotFoundError(`Task with id \`${taskId}\` not found in Dag \`${dag.dag_id}\``);
    return c.json(serializeTask(task, dag.spec));
  });

  return app;
}

const SORTABLE_TASK_FIELDS = ["task_id", "operator_name", "pool", "priority_weight", "retries", "trigger_rule"];

function sortByField(rows: Record<string, unknown>[], orderBy: string): void {
  const desc = orderBy.startsWith("-");
  const field = desc ? orderBy.slice(1) : orderBy;
  if (!SORTABLE_TASK_FIELDS.includes(field))
    throw new ValidationError(
      `Ordering with '${field}' is disallowed or the attribute does not exist on the model; use one of ${SORTABLE_TASK_FIELDS.join(", ")}`,
      [{ path: "order_by", message: `unknown field ${field}` }],
    );
  rows.sort((a, b) => {
    const x = a[field] as string | number;
    const y = b[field] as string | number;
    const cmp = x < y ? -1 : x > y ? 1 : 0;
    return desc ? -cmp : cmp;
  });
}
