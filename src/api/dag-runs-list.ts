/**
 * Listing DAG runs with Airflow's filters: the query of GET /dags/{dag_id}/dagRuns and the body of
 * POST /dags/~/dagRuns/list (the batch form, for filters too long for a URL).
 */
import { Hono } from "hono";
import { z } from "zod";
import { DAG_RUN_STATES, type DagRunDateField, type DagRunFilter, built, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { RequestValidationError } from "./errors";
import { dateRangeShape, likePattern, ranges, repeated } from "./list-params";
import { serializeDagRun } from "./serialize";
import { teamOf } from "./team";
import { runVersionTimes } from "./version-times";
import { mapOrderBy, MAX_PAGE_LIMIT, pagingQuery, parseBody } from "./validate";

/** Airflow's DagRunType values; asset_triggered is accepted and matches nothing (Leoflow has no assets). */
const RUN_TYPES = ["backfill", "scheduled", "manual", "asset_triggered"] as const;
const RUN_DATE_FIELDS: readonly DagRunDateField[] = ["logical_date", "start_date", "end_date", "updated_at", "run_after"];
const RUN_ORDER_ALIASES = { dag_run_id: "run_id" };

const runState = lazySchema(() => z.enum(DAG_RUN_STATES, { error: `state must be one of ${DAG_RUN_STATES.join(", ")}` }));
const runType = lazySchema(() => z.enum(RUN_TYPES, { error: `run_type must be one of ${RUN_TYPES.join(", ")}` }));

export const LIST_RUNS_ARRAY_KEYS = ["state", "run_type"];

export const ListRunsQuery = lazySchema(() =>
  z.object({
    ...pagingQuery,
    state: repeated(built(runState)),
    run_type: repeated(built(runType)),
    run_id_pattern: likePattern,
    dag_id_pattern: likePattern,
    triggering_user_name_pattern: likePattern,
    ...dateRangeShape(RUN_DATE_FIELDS),
  }),
);

/** Airflow's DAGRunsBatchBody. */
export const DagRunsBatchBody = lazySchema(() =>
  z
    .object({
      order_by: z.string().min(1).nullable().optional(),
      page_offset: z.number().int().min(0).default(0),
      page_limit: z
        .number()
        .int()
        .min(0)
        .default(100)
        .transform((n) => Math.min(n, MAX_PAGE_LIMIT)),
      dag_ids: z.array(z.string()).nullable().optional(),
      states: z.array(runState.nullable()).nullable().optional(),
      ...dateRangeShape(["logical_date", "start_date", "end_date", "run_after"] as const),
    })
    .strict(),
);

/** The store filter for parsed list parameters (`dagId` undefined: every DAG). */
export function runFilterOf(q: z.output<typeof ListRunsQuery>, dagId: string | undefined): DagRunFilter {
  return {
    dag_id: dagId,
    state: q.state,
    // asset_triggered: a kind of run Leoflow never has, so it matches nothing.
    run_type: q.run_type?.filter((t) => t !== "asset_triggered") as DagRunFilter["run_type"],
    run_id_pattern: q.run_id_pattern,
    dag_id_pattern: q.dag_id_pattern,
    triggering_user_name_pattern: q.triggering_user_name_pattern,
    ...ranges(q, RUN_DATE_FIELDS),
    limit: q.limit,
    offset: q.offset,
    order_by: mapOrderBy(q.order_by, RUN_ORDER_ALIASES),
  };
}

export function dagRunListRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.post("/dags/:dag_id/dagRuns/list", async (c) => {
    if (c.req.param("dag_id") !== "~")
      throw new RequestValidationError([
        { loc: ["path", "dag_id"], msg: "dag_id must be ~ here: the batch list spans DAGs; filter with dag_ids", type: "literal_error" },
      ]);
    const b = await parseBody(c, DagRunsBatchBody);
    const page = await store.listDagRuns(teamOf(c), {
      dag_ids: b.dag_ids ?? undefined,
      state: b.states?.filter((s) => s !== null),
      ...ranges(b, ["logical_date", "start_date", "end_date", "run_after"]),
      limit: b.page_limit,
      offset: b.page_offset,
      order_by: mapOrderBy(b.order_by ?? undefined, RUN_ORDER_ALIASES),
    });
    const times = await runVersionTimes(store, page.items);
    return c.json({ dag_runs: page.items.map((r) => serializeDagRun(r, times)), total_entries: page.total });
  });

  return app;
}
