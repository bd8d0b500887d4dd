/**
 * A task instance's tries (Airflow's …/taskInstances/{task_id}[/{map_index}]/tries[/{task_try_number}]):
 * the earlier tries from task_instance_history, then the current one, as TaskInstanceHistoryResponse.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { NotFoundError, type DagRunRecord, type TaskInstanceRecord, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagRunOr404, getTaskInstanceOr404 } from "./lookups";
import { teamOf } from "./team";
import { serializeTaskInstance, type VersionTimes } from "./serialize";
import { runVersionTimes } from "./version-times";
import { mapIndexParam } from "./task-instances";
import { parsePathParam } from "./validate";

const TryNumber = lazySchema(() =>
  z.coerce.number({ error: "task_try_number must be an integer" }).int("task_try_number must be an integer"),
);

/** TaskInstanceHistoryResponse: TaskInstanceResponse without the fields a past try has no value for. */
export function serializeTry(ti: TaskInstanceRecord, run: DagRunRecord, versionTimes: VersionTimes) {
  const {
    id: _id,
    logical_date: _ld,
    run_after: _ra,
    note: _note,
    rendered_map_index: _rmi,
    rendered_fields: _rf,
    trigger: _t,
    triggerer_job: _tj,
    last_heartbeat: _hb,
    ...rest
  } = serializeTaskInstance(ti, run, versionTimes);
  return rest;
}

export function taskInstanceTryRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const TI = "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id";

  /** Every try, oldest first; the current try last (a history row for it, if any, is superseded). */
  async function tries(c: Context<ApiEnv> & { req: { param(name: string): string | undefined } }) {
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id")!, c.req.param("dag_run_id")!);
    const ti = await getTaskInstanceOr404(store, run.team, run.dag_id, run.run_id, c.req.param("task_id")!, mapIndexParam(c));
    const past = (await store.listTaskInstanceTries(ti.id)).filter((t) => t.try_number !== ti.try_number);
    return { run, ti, all: [...past, ti] };
  }

  for (const path of [`${TI}/tries`, `${TI}/:map_index{-?[0-9]+}/tries`])
    app.get(path, async (c) => {
      const { run, all } = await tries(c);
      const times = await runVersionTimes(store, [run]);
      return c.json({ task_instances: all.map((t) => serializeTry(t, run, times)), total_entries: all.length });
    });

  for (const path of [`${TI}/tries/:task_try_number`, `${TI}/:map_index{-?[0-9]+}/tries/:task_try_number`])
    app.get(path, async (c) => {
      const n = parsePathParam("task_try_number", c.req.param("task_try_number") ?? "", TryNumber);
      const { run, ti, all } = await tries(c);
      const one = all.find((t) => t.try_number === n);
      if (!one)
        throw new NotFoundError(
          `The Task Instance with dag_id: \`${run.dag_id}\`, run_id: \`${run.run_id}\`, task_id: \`${ti.task_id}\`, try_number: \`${n}\` and map_index: \`${ti.map_index}\` was not found; its tries are ${all.map((t) => t.try_number).join(", ")}`,
        );
      return c.json(serializeTry(one, run, await runVersionTimes(store, [run])));
    });

  return app;
}
