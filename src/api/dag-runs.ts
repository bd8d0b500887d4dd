/** DAG runs: trigger (POST), list (`~` for every DAG), get and delete (Airflow's /api/v2/dags/{dag_id}/dagRuns…). */
import { Hono } from "hono";
import { z } from "zod";
import { ConflictError, NotFoundError, ValidationError, type DagRunRecord, lazySchema } from "../domain";
import { buildDagRun, defaultRunId, runIdSuffix } from "../scheduler";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagOr404, getDagRunOr404 } from "./lookups";
import { teamOf } from "./team";
import { serializeDagRun } from "./serialize";
import { runVersionTimes } from "./version-times";
import { LIST_RUNS_ARRAY_KEYS, ListRunsQuery, runFilterOf } from "./dag-runs-list";

export { ListRunsQuery };
import { isoDateTime, parseBody, parseQuery } from "./validate";

/** Airflow's default `allowed_run_id_pattern`. */
const RUN_ID = /^[A-Za-z0-9_.~:+-]+$/;

/** Airflow's TriggerDAGRunPostBody: `logical_date` must be present (null lets the server pick none). */
export const TriggerDagRunBody = lazySchema(() =>
  z
    .object({
      dag_run_id: z
        .string()
        .min(1)
        .max(250)
        .regex(RUN_ID, "dag_run_id may only contain letters, digits and _ . ~ : + -")
        .nullable()
        .optional(),
      logical_date: isoDateTime.nullable(),
      data_interval_start: isoDateTime.nullable().optional(),
      data_interval_end: isoDateTime.nullable().optional(),
      run_after: isoDateTime.nullable().optional(),
      conf: z.record(z.string(), z.unknown()).nullable().optional(),
      note: z.string().max(1000).nullable().optional(),
    })
    .strict()
    .superRefine((b, ctx) => {
      if ((b.data_interval_start == null) !== (b.data_interval_end == null))
        ctx.addIssue({
          code: "custom",
          path: ["data_interval_end"],
          message: "Either both data_interval_start and data_interval_end must be provided or both must be None",
        });
      else if (b.data_interval_start && b.data_interval_end && b.data_interval_end < b.data_interval_start)
        ctx.addIssue({ code: "custom", path: ["data_interval_end"], message: "data_interval_end is before data_interval_start" });
    }),
);

export /** Fresh suffixes tried when a generated run id is taken (at 62^8 values, a second try is already rare). */
const GENERATED_ID_ATTEMPTS = 3;

export function dagRunRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.post("/dags/:dag_id/dagRuns", async (c) => {
    const body = await parseBody(c, TriggerDagRunBody); // like FastAPI: a malformed body is 422 before any lookup
    const dag = await getDagOr404(store, teamOf(c), c.req.param("dag_id"));
    if (!dag.is_active)
      throw new ValidationError(
        `DAG ${dag.dag_id} is not active: its file ${dag.fileloc} no longer defines it (see GET /api/v2/importErrors); fix the file before triggering`,
      );
    const now = deps.now();
    // Like Airflow 3: without dag_run_id and logical_date the id is manual__<now>_<8 random characters>, so
    // concurrent triggers never collide; a given dag_run_id (or logical date) that is taken stays a 409.
    const generated = body.dag_run_id == null && body.logical_date == null;
    // Airflow's triggering_user_name: the caller's name (none with --auth none, where no user is known).
    const triggering_user_name = c.get("user")?.username ?? null;
    // Airflow 3 keeps the run queued until its run_after; without one it may start at once.
    const run_after = body.run_after ?? null;
    const build = () => ({
      ...buildDagRun(
        dag,
        {
          run_id:
            body.dag_run_id ??
            (generated ? defaultRunId("manual", now, runIdSuffix(crypto.getRandomValues(new Uint8Array(8)))) : undefined),
          run_type: "manual",
          logical_date: body.logical_date,
          data_interval_start: body.data_interval_start ?? null,
          data_interval_end: body.data_interval_end ?? null,
          conf: body.conf ?? {},
          note: body.note ?? null,
        },
        now,
      ),
      triggering_user_name,
      run_after,
    });
    let run: DagRunRecord;
    for (let attempt = 1; ; attempt++) {
      try {
        run = await store.createDagRun(build());
        break;
      } catch (e) {
        if (!(generated && e instanceof ConflictError && attempt < GENERATED_ID_ATTEMPTS)) throw e;
      }
    }
    deps.logger.info("DAG run triggered", { dag_id: run.dag_id, run_id: run.run_id, by: c.get("user")?.username ?? null });
    deps.scheduler.wake(run.id);
    return c.json(serializeDagRun(run, await runVersionTimes(store, [run])), 200);
  });

  app.get("/dags/:dag_id/dagRuns", async (c) => {
    const dagId = c.req.param("dag_id");
    const q = parseQuery(c, ListRunsQuery, LIST_RUNS_ARRAY_KEYS);
    if (dagId !== "~") await getDagOr404(store, teamOf(c), dagId);
    const page = await store.listDagRuns(teamOf(c), runFilterOf(q, dagId === "~" ? undefined : dagId));
    const times = await runVersionTimes(store, page.items);
    return c.json({ dag_runs: page.items.map((r) => serializeDagRun(r, times)), total_entries: page.total });
  });

  app.get("/dags/:dag_id/dagRuns/:dag_run_id", async (c) => {
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    return c.json(serializeDagRun(run, await runVersionTimes(store, [run])));
  });

  app.delete("/dags/:dag_id/dagRuns/:dag_run_id", async (c) => {
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    if (!(await store.deleteDagRun(run.team, run.dag_id, run.run_id)))
      throw new NotFoundError(`The DagRun with dag_id: \`${run.dag_id}\` and run_id: \`${run.run_id}\` was not found`);
    deps.logger.info("DAG run deleted", { dag_id: run.dag_id, run_id: run.run_id, by: c.get("user")?.username ?? null });
    return c.body(null, 204);
  });

  return app;
}
