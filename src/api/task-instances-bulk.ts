/**
 * PATCH /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances (Airflow 3.1's bulk task-instance body): each
 * `update` entity is one task-instance PATCH (new_state, note, include_upstream/downstream); Leoflow keeps
 * every task instance of a run, so `create` and `delete` entities answer an error each and change nothing.
 * The answer is Airflow's BulkResponse: 200, with per-entity errors saying what did not apply and why.
 */
import { Hono } from "hono";
import { z } from "zod";
import { ConflictError, IllegalTransitionError, LeoflowError, NotFoundError, type BulkActionResult, built, lazySchema } from "../domain";
import { bulkResponse } from "./bulk";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagRunOr404 } from "./lookups";
import { teamOf } from "./team";
import { markTaskInstance, PatchTaskInstanceBody } from "./mark";
import { parseBody } from "./validate";

/** Airflow's BulkTaskInstanceBody: a PatchTaskInstanceBody that names its task instance. */
const BulkTaskInstanceBody = lazySchema(() =>
  PatchTaskInstanceBody.extend({
    task_id: z.string().min(1),
    map_index: z.number().int().nullable().optional(),
  }),
);
const deleteEntity = lazySchema(() => z.union([z.string().min(1), z.looseObject({ task_id: z.string().min(1) })]));

/** Airflow's BulkBody[BulkTaskInstanceBody]. */
export const BulkTaskInstancesBody = lazySchema(() =>
  z
    .object({
      actions: z.array(
        z.discriminatedUnion("action", [
          z
            .object({
              action: z.literal("create"),
              entities: z.array(built(BulkTaskInstanceBody)),
              action_on_existence: z.string().optional(),
            })
            .strict(),
          z
            .object({
              action: z.literal("update"),
              entities: z.array(built(BulkTaskInstanceBody)),
              action_on_non_existence: z.enum(["fail", "skip"]).default("fail"),
            })
            .strict(),
          z
            .object({
              action: z.literal("delete"),
              entities: z.array(built(deleteEntity)),
              action_on_non_existence: z.enum(["fail", "skip"]).default("fail"),
            })
            .strict(),
        ]),
      ),
    })
    .strict(),
);

/** The HTTP status the single PATCH route would have answered for this (domain) error. */
function statusOf(e: LeoflowError): number {
  if (e instanceof NotFoundError) return 404;
  if (e instanceof ConflictError || e instanceof IllegalTransitionError) return 409;
  return 400;
}

export function taskInstanceBulkRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.patch("/dags/:dag_id/dagRuns/:dag_run_id/taskInstances", async (c) => {
    const body = await parseBody(c, BulkTaskInstancesBody);
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    const by = c.get("user")?.username ?? null;
    const results: BulkActionResult[] = [];
    for (const action of body.actions) {
      const result: BulkActionResult = { success: [], errors: [] };
      results.push(result);
      if (action.action !== "update") {
        const verb = action.action === "create" ? "created" : "deleted";
        result.errors.push({
          error: `task instances are not ${verb} one by one in Leoflow: a run has one per task of its DAG version; use update (new_state, note), clear, or DELETE the run`,
          status_code: 405,
        });
        continue;
      }
      for (const e of action.entities) {
        try {
          // Read each time: an earlier entity (include_downstream…) may have moved this one.
          const ti = await store.getTaskInstance(run.team, run.dag_id, run.run_id, e.task_id, e.map_index ?? -1);
          if (!ti) {
            if (action.action_on_non_existence === "skip") continue;
            throw new NotFoundError(
              `The Task Instance with task_id: \`${e.task_id}\` and map_index: \`${e.map_index ?? -1}\` was not found in run ${run.run_id}`,
            );
          }
          await markTaskInstance(deps, run, ti, e, { dryRun: false, by });
          result.success.push(e.task_id);
        } catch (err) {
          if (!(err instanceof LeoflowError)) throw err; // a bug or an outage: a 500 for the call, not a line in the answer
          result.errors.push({ error: err.message, status_code: statusOf(err) });
        }
      }
    }
    return c.json(bulkResponse(body.actions, results));
  });

  return app;
}
