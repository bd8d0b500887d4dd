/** DAGs: list with Airflow's filters, get, details, pause/unpause (one or many), delete, tasks (Airflow's /api/v2/dags…). */
import { Hono } from "hono";
import { z } from "zod";
import { ConflictError, DAG_RUN_STATES, NotFoundError, ValidationError, built, lazySchema, type DagRecord } from "../domain";
import type { DagFilter } from "../store";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { airflowPattern, rangeOf, dateRangeShape, repeated } from "./list-params";
import { getDagOr404 } from "./lookups";
import { teamOf } from "./team";
import { nextDagRuns } from "./next-dagrun";
import { serializeDag, serializeDagDetails, serializeTask } from "./serialize";
import { mapOrderBy, pagingQuery, parseBody, parseQuery, queryBool } from "./validate";

const runState = lazySchema(() => z.enum(DAG_RUN_STATES, { error: `Input should be one of ${DAG_RUN_STATES.join(", ")}` }));

/** Filters GET /dags and PATCH /dags share. */
const commonFilters = lazySchema(() => ({
  ...pagingQuery,
  tags: repeated(z.string().min(1)),
  tags_match_mode: z.enum(["any", "all"], { error: "Input should be 'any' or 'all'" }).optional(),
  owners: repeated(z.string().min(1)),
  dag_id_pattern: z.string().min(1).optional(),
  exclude_stale: queryBool.optional(),
  /** Airflow 2's name for exclude_stale. */
  only_active: queryBool.optional(),
  paused: queryBool.optional(),
}));

export const ListDagsQuery = lazySchema(() =>
  z.object({
    ...commonFilters,
    order_by: repeated(z.string().min(1)),
    dag_display_name_pattern: z.string().min(1).optional(),
    has_import_errors: queryBool.optional(),
    last_dag_run_state: runState.optional(),
    dag_run_state: repeated(built(runState)),
    ...dateRangeShape(["dag_run_start_date", "dag_run_end_date"] as const),
    // Leoflow DAGs have no bundle, no asset schedule and no favorites: these filters are answered as such.
    bundle_name: z.string().optional(),
    bundle_version: z.string().optional(),
    has_asset_schedule: queryBool.optional(),
    asset_dependency: z.string().optional(),
    is_favorite: queryBool.optional(),
  }),
);
const LIST_ARRAYS = ["tags", "owners", "order_by", "dag_run_state"];

export const PatchDagsQuery = lazySchema(() => z.object({ ...commonFilters, update_mask: repeated(z.string().min(1)) }));

export const DagPatchBody = lazySchema(() => z.object({ is_paused: z.boolean() }).strict());

const DAG_ORDER_ALIASES = { last_parsed_time: "last_parsed_at" };

/** The store filter for the parameters both list and bulk patch take. */
function baseFilter(q: Omit<z.output<typeof PatchDagsQuery>, "order_by" | "update_mask">): DagFilter {
  return {
    limit: q.limit,
    offset: q.offset,
    tags: q.tags,
    tags_match_mode: q.tags_match_mode,
    owners: q.owners,
    dag_id_patterns: q.dag_id_pattern === undefined ? undefined : [airflowPattern(q.dag_id_pattern)!],
    only_active: q.exclude_stale ?? q.only_active ?? true,
    paused: q.paused,
  };
}

/** Airflow refuses any update_mask but `is_paused`: that is the one field the API may change. */
function checkUpdateMask(mask: string[] | undefined): void {
  if (mask?.length && (mask.length !== 1 || mask[0] !== "is_paused"))
    throw new ValidationError("Only `is_paused` field can be updated through the REST API; send update_mask=is_paused or none", [
      { path: "update_mask", message: `unknown fields ${mask.join(", ")}` },
    ]);
}

export function dagRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  /**
   * What DAGResponse adds to stored DAGs of `team`: each one's next run and whether its file has import errors now,
   * one store read each for them all (a team's import errors are a handful: one row a broken file).
   */
  const extrasOf = async (team: string, dags: readonly DagRecord[]) => {
    const [next, errors] = await Promise.all([
      nextDagRuns(store, team, dags, deps.now()),
      store.listImportErrors(team, { limit: 100_000 }),
    ]);
    const broken = new Set(errors.items.map((e) => e.filename));
    return (d: DagRecord) => [next.get(d.dag_id) ?? null, broken.has(d.fileloc)] as const;
  };
  const serializeDags = async (team: string, dags: readonly DagRecord[]) => {
    const extras = await extrasOf(team, dags);
    return dags.map((d) => serializeDag(d, ...extras(d)));
  };
  const serializeOne = async (dag: DagRecord) => (await serializeDags(dag.team, [dag]))[0]!;

  app.get("/dags", async (c) => {
    const q = parseQuery(c, ListDagsQuery, LIST_ARRAYS);
    const nothing =
      (q.bundle_name != null && q.bundle_name !== "") ||
      (q.bundle_version != null && q.bundle_version !== "") ||
      q.has_asset_schedule === true ||
      q.asset_dependency !== undefined ||
      q.is_favorite === true;
    if (nothing) return c.json({ dags: [], total_entries: 0 });
    const lastStates = [...(q.last_dag_run_state ? [q.last_dag_run_state] : []), ...(q.dag_run_state ?? [])];
    const page = await store.findDags(teamOf(c), {
      ...baseFilter(q),
      // Leoflow's display name is the dag_id: both patterns apply to it.
      dag_id_patterns: [q.dag_id_pattern, q.dag_display_name_pattern].filter((p) => p !== undefined).map((p) => airflowPattern(p)!),
      order_by_list: (q.order_by ?? []).map((o) => mapOrderBy(o, DAG_ORDER_ALIASES)!),
      has_import_errors: q.has_import_errors,
      last_run_state:
        q.last_dag_run_state && q.dag_run_state
          ? intersect(q.last_dag_run_state, q.dag_run_state)
          : lastStates.length
            ? lastStates
            : undefined,
      last_run_start_date: rangeOf<Date>(q, "dag_run_start_date"),
      last_run_end_date: rangeOf<Date>(q, "dag_run_end_date"),
    });
    return c.json({ dags: await serializeDags(teamOf(c), page.items), total_entries: page.total });
  });

  app.patch("/dags", async (c) => {
    const q = parseQuery(c, PatchDagsQuery, ["tags", "owners", "update_mask"]);
    checkUpdateMask(q.update_mask);
    const body = await parseBody(c, DagPatchBody);
    // As Airflow: without dag_id_pattern nothing matches (pass `~` to patch every DAG).
    if (q.dag_id_pattern === undefined) return c.json({ dags: [], total_entries: 0 });
    const filter = baseFilter(q);
    const changed = await store.setDagsPaused(teamOf(c), filter, body.is_paused);
    deps.logger.info(body.is_paused ? "DAGs paused" : "DAGs unpaused", {
      pattern: q.dag_id_pattern,
      matched: changed,
      by: c.get("user")?.username ?? null,
    });
    // Unpaused: their runs may go on. Paused: the next tick holds their runs, so tasks waiting for a slot stop
    // taking freed ones (scheduler/refill.ts) now rather than at the next sweep.
    if (changed) deps.scheduler.wake();
    // The DAGs patched, as they are now: a paused filter now holds the value just set.
    const page = await store.findDags(teamOf(c), { ...filter, paused: filter.paused === undefined ? undefined : body.is_paused });
    return c.json({ dags: await serializeDags(teamOf(c), page.items), total_entries: page.total });
  });

  app.get("/dags/:dag_id", async (c) => {
    const dag = await getDagOr404(store, teamOf(c), c.req.param("dag_id"));
    return c.json(await serializeOne(dag));
  });

  app.patch("/dags/:dag_id", async (c) => {
    const dagId = c.req.param("dag_id");
    const { update_mask } = parseQuery(c, z.object({ update_mask: repeated(z.string().min(1)) }), ["update_mask"]);
    checkUpdateMask(update_mask);
    const body = await parseBody(c, DagPatchBody);
    const dag = await store.setDagPaused(teamOf(c), dagId, body.is_paused);
    if (!dag) throw new NotFoundError(`The Dag with ID: \`${dagId}\` was not found`);
    deps.logger.info(body.is_paused ? "DAG paused" : "DAG unpaused", { dag_id: dagId, by: c.get("user")?.username ?? null });
    deps.scheduler.wake(); // paused or not: see PATCH /dags
    return c.json(await serializeOne(dag));
  });

  app.delete("/dags/:dag_id", async (c) => {
    const dagId = c.req.param("dag_id");
    const dag = await getDagOr404(store, teamOf(c), dagId);
    const outcome = await store.deleteDag(teamOf(c), dagId);
    if (outcome === "not_found") throw new NotFoundError(`The Dag with ID: \`${dagId}\` was not found`);
    if (outcome === "running")
      throw new ConflictError(
        `Task instances of dag with id: '${dagId}' are still running; wait for them to finish (or mark them failed) and delete again`,
      );
    deps.logger.info("DAG deleted", { dag_id: dagId, by: c.get("user")?.username ?? null });
    // As in Airflow, the file still defines it: it comes back, with no history, when its file is parsed again.
    if (dag.is_active)
      deps.dagFiles
        ?.reparse(dag.team, dag.fileloc)
        .catch((e) => deps.logger.warn("re-parsing a deleted DAG's file failed", { file: dag.fileloc, error: e }));
    // Airflow's spec documents 200 with an empty object for a delete.
    return c.json({}, 200);
  });

  app.get("/dags/:dag_id/details", async (c) => {
    const dag = await getDagOr404(store, teamOf(c), c.req.param("dag_id"));
    const [versions, extras] = await Promise.all([
      store.listDagVersions(dag.team, { dag_id: dag.dag_id, version_id: dag.version_id, limit: 1 }),
      extrasOf(dag.team, [dag]),
    ]);
    return c.json(serializeDagDetails(dag, versions.items[0] ?? null, ...extras(dag)));
  });

  app.get("/dags/:dag_id/tasks", async (c) => {
    const dag = await getDagOr404(store, teamOf(c), c.req.param("dag_id"));
    const { order_by } = parseQuery(c, z.object({ order_by: z.string().min(1).optional() }));
    const tasks = dag.spec.tasks.map((t) => serializeTask(t, dag.spec));
    if (order_by) sortByField(tasks, order_by);
    return c.json({ tasks, total_entries: tasks.length });
  });

  app.get("/dags/:dag_id/tasks/:task_id", async (c) => {
    const dag = await getDagOr404(store, teamOf(c), c.req.param("dag_id"));
    const taskId = c.req.param("task_id");
    const task = dag.spec.tasks.find((t) => t.task_id === taskId);
    if (!task) throw new NotFoundError(`Task with id \`${taskId}\` not found in Dag \`${dag.dag_id}\``);
    return c.json(serializeTask(task, dag.spec));
  });

  return app;
}

const intersect = <T>(one: T, many: T[]): T[] => (many.includes(one) ? [one] : []);

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
