/**
 * Task instances: list (`~` for every DAG and every run, Airflow's filters), get (also by map_index: a mapped
 * task's instances are 0..n-1 once expanded, -1 before), dependencies, listMapped, and the batch list
 * POST /dags/~/dagRuns/~/taskInstances/list.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import {
  NotFoundError,
  TASK_STATES,
  taskOfSpec,
  type DagRunRecord,
  type TaskInstanceFilter,
  type TaskInstanceRecord,
  built,
  lazySchema,
} from "../domain";
import type { ApiStore } from "../store";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { RequestValidationError } from "./errors";
import { dateRangeShape, likePattern, numberRangeShape, rangeOf, ranges, repeated } from "./list-params";
import { getDagOr404, getDagRunOr404, getTaskInstanceOr404 } from "./lookups";
import { teamOf } from "./team";
import { serializeTaskInstance } from "./serialize";
import { renderedFieldsOf } from "./rendered-fields";
import { runVersionTimes } from "./version-times";
import { taskDependencies } from "./task-dependencies";
import { mapOrderBy, MAX_PAGE_LIMIT, pagingQuery, parseBody, parsePathParam, parseQuery } from "./validate";

// map_index orders by id: a mapped task's instances are created in map_index order, so id order is theirs.
const TI_ORDER_ALIASES = { dag_run_id: "run_id", queued_when: "queued_at", map_index: "id" };
const TI_DATE_FIELDS = ["logical_date", "start_date", "end_date", "updated_at", "run_after"] as const;
const BATCH_DATE_FIELDS = ["logical_date", "start_date", "end_date", "run_after"] as const;

const tiState = lazySchema(() => z.enum(TASK_STATES, { error: `state must be one of ${TASK_STATES.join(", ")}` }));
const intList = lazySchema(() => z.coerce.number({ error: "must be an integer" }).int("must be an integer"));

export const ListTisQuery = lazySchema(() =>
  z.object({
    ...pagingQuery,
    task_id: z.string().min(1).optional(),
    task_display_name_pattern: likePattern,
    state: repeated(built(tiState)),
    pool: repeated(z.string()),
    queue: repeated(z.string()),
    executor: repeated(z.string()),
    operator: repeated(z.string()),
    try_number: repeated(built(intList)),
    map_index: repeated(built(intList)),
    ...dateRangeShape(TI_DATE_FIELDS),
    ...numberRangeShape("duration", true),
  }),
);
const TI_ARRAY_KEYS = ["state", "pool", "queue", "executor", "operator", "try_number", "map_index"];

/** Airflow's TaskInstancesBatchBody. */
export const TisBatchBody = lazySchema(() =>
  z
    .object({
      dag_ids: z.array(z.string()).nullable().optional(),
      dag_run_ids: z.array(z.string()).nullable().optional(),
      task_ids: z.array(z.string()).nullable().optional(),
      state: z.array(tiState.nullable()).nullable().optional(),
      pool: z.array(z.string()).nullable().optional(),
      queue: z.array(z.string()).nullable().optional(),
      executor: z.array(z.string()).nullable().optional(),
      page_offset: z.number().int().min(0).default(0),
      page_limit: z
        .number()
        .int()
        .min(0)
        .default(100)
        .transform((n) => Math.min(n, MAX_PAGE_LIMIT)),
      order_by: z.string().min(1).nullable().optional(),
      ...dateRangeShape(BATCH_DATE_FIELDS),
      ...numberRangeShape("duration", false),
    })
    .strict(),
);

/** The map index of an unmapped task instance (Airflow's -1). */
export const UNMAPPED = -1;
export const MapIndex = lazySchema(() => z.coerce.number({ error: "map_index must be an integer" }).int("map_index must be an integer"));

/** The `map_index` path parameter when the route has one, else -1. */
export function mapIndexParam(c: { req: { param(name: string): string | undefined } }): number {
  const raw = c.req.param("map_index");
  return raw === undefined ? UNMAPPED : parsePathParam("map_index", raw, MapIndex);
}

/** TaskInstanceResponse for a page spanning runs: each run is read once. */
export async function serializeAcrossRuns(store: Pick<ApiStore, "getDagRunById" | "listDagVersions">, tis: TaskInstanceRecord[]) {
  const runs = new Map<number, DagRunRecord | null>();
  for (const ti of tis) if (!runs.has(ti.dag_run_id)) runs.set(ti.dag_run_id, await store.getDagRunById(ti.dag_run_id));
  const times = await runVersionTimes(store, runs.values());
  return tis.map((ti) => serializeTaskInstance(ti, runs.get(ti.dag_run_id) ?? null, times));
}

/** A filter no Leoflow task instance can match (a queue: Leoflow has none). */
const matchesNothing = (queue: unknown[] | null | undefined) => queue != null && queue.length > 0;

export function taskInstanceRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const RUN = "/dags/:dag_id/dagRuns/:dag_run_id";
  const empty = { task_instances: [], total_entries: 0 };

  app.get(`${RUN}/taskInstances`, async (c) => {
    const dagId = c.req.param("dag_id");
    const runId = c.req.param("dag_run_id");
    const q = parseQuery(c, ListTisQuery, TI_ARRAY_KEYS);
    if (dagId !== "~" && runId !== "~") await getDagRunOr404(store, teamOf(c), dagId, runId);
    else if (dagId !== "~") await getDagOr404(store, teamOf(c), dagId);
    else if (runId !== "~")
      throw new RequestValidationError([
        {
          loc: ["path", "dag_run_id"],
          msg: "dag_run_id must be ~ when dag_id is ~: a run id is only unique within its DAG",
          type: "value_error",
        },
      ]);
    if (matchesNothing(q.queue)) return c.json(empty);
    const filter: TaskInstanceFilter = {
      dag_id: dagId === "~" ? undefined : dagId,
      run_id: runId === "~" ? undefined : runId,
      task_id: q.task_id,
      map_index: q.map_index,
      task_id_pattern: q.task_display_name_pattern,
      state: q.state,
      pool: q.pool,
      executor: q.executor,
      operator: q.operator,
      try_number: q.try_number,
      ...ranges(q, TI_DATE_FIELDS),
      duration: rangeOf<number>(q, "duration"),
      limit: q.limit,
      offset: q.offset,
      order_by: mapOrderBy(q.order_by, TI_ORDER_ALIASES),
    };
    const page = await store.findTaskInstances(teamOf(c), filter);
    return c.json({ task_instances: await serializeAcrossRuns(store, page.items), total_entries: page.total });
  });

  app.post("/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/list", async (c) => {
    for (const name of ["dag_id", "dag_run_id"])
      if (c.req.param(name) !== "~")
        throw new RequestValidationError([
          {
            loc: ["path", name],
            msg: `${name} must be ~ here: the batch list spans DAGs and runs; filter in the body`,
            type: "literal_error",
          },
        ]);
    const b = await parseBody(c, TisBatchBody);
    if (matchesNothing(b.queue)) return c.json(empty);
    const page = await store.findTaskInstances(teamOf(c), {
      dag_ids: b.dag_ids ?? undefined,
      run_ids: b.dag_run_ids ?? undefined,
      task_ids: b.task_ids ?? undefined,
      state: b.state?.map((s) => s ?? "none"),
      pool: b.pool ?? undefined,
      executor: b.executor ?? undefined,
      ...ranges(b, BATCH_DATE_FIELDS),
      duration: rangeOf<number>(b, "duration"),
      limit: b.page_limit,
      offset: b.page_offset,
      order_by: mapOrderBy(b.order_by ?? undefined, TI_ORDER_ALIASES),
    });
    return c.json({ task_instances: await serializeAcrossRuns(store, page.items), total_entries: page.total });
  });

  const TI = `${RUN}/taskInstances/:task_id`;
  // One task instance's answer renders its templated fields (rendered-fields.ts); lists leave them {}: a page of
  // 100 would read variables, connections and XComs for each.
  const serializeOne = async (ti: TaskInstanceRecord, run: DagRunRecord) => {
    const [times, rendered_fields] = await Promise.all([runVersionTimes(store, [run]), renderedFieldsOf(store, ti, run)]);
    return { ...serializeTaskInstance(ti, run, times), rendered_fields };
  };
  const load = async (c: { req: { param(name: string): string } } & Context<ApiEnv>) => {
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    const mapIndex = mapIndexParam(c);
    return { run, ti: await getTaskInstanceOr404(store, run.team, run.dag_id, run.run_id, c.req.param("task_id"), mapIndex) };
  };

  app.get(TI, async (c) => {
    const { run, ti } = await load(c);
    return c.json(await serializeOne(ti, run));
  });

  // A mapped task's instances (map_index >= 0), in map_index order; Airflow's 404 for a task that is not mapped.
  app.get(`${TI}/listMapped`, async (c) => {
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    const taskId = c.req.param("task_id");
    const q = parseQuery(c, ListTisQuery, TI_ARRAY_KEYS);
    const page = await store.findTaskInstances(teamOf(c), {
      dag_id: run.dag_id,
      run_id: run.run_id,
      task_id: taskId,
      limit: q.limit,
      offset: q.offset,
      order_by: mapOrderBy(q.order_by, TI_ORDER_ALIASES),
    });
    const mapped = page.items.filter((t) => t.map_index >= 0);
    if (page.total === 0 || (page.items.length > 0 && mapped.length === 0)) {
      await getTaskInstanceOr404(store, run.team, run.dag_id, run.run_id, taskId);
      throw new NotFoundError(`Task id ${taskId} is not mapped (or not expanded yet): GET the task instance itself`);
    }
    return c.json({ task_instances: await serializeAcrossRuns(store, mapped), total_entries: page.total });
  });

  for (const path of [`${TI}/dependencies`, `${TI}/:map_index{-?[0-9]+}/dependencies`])
    app.get(path, async (c) => {
      const { run, ti } = await load(c);
      const [snap] = await store.loadRunSnapshots([run.id]);
      const spec = await store.getDagVersion(run.version_id);
      const dag = await store.getDag(run.team, run.dag_id);
      const task = spec ? taskOfSpec(spec, ti.task_id) : undefined;
      const dependencies = taskDependencies({
        ti,
        run,
        dagPaused: dag?.is_paused ?? false,
        upstream: task?.upstream ?? [],
        triggerRule: task?.trigger_rule ?? "all_success",
        // Every instance of a mapped upstream, so the reason counts them; as for the planner, not those its last expansion removed.
        states: new Map(
          [...Map.groupBy(snap?.tis ?? [], (t) => t.task_id)].map(([id, tis]) => [
            id,
            tis.filter((t) => t.map_index < 0 || t.state !== "removed").map((t) => t.state),
          ]),
        ),
      });
      return c.json({ dependencies });
    });

  // After the named sub-resources: the pattern keeps `tries`, `logs`, `xcomEntries`… out of map_index.
  app.get(`${TI}/:map_index{-?[0-9]+}`, async (c) => {
    const { run, ti } = await load(c);
    return c.json(await serializeOne(ti, run));
  });

  return app;
}
