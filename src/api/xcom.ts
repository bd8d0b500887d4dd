/**
 * XCom entries of a task instance: list (`~` for every DAG, run or task; Airflow's patterns and dates), get one with its value
 * (`stringify` for a string value), create (POST, 409 when the key exists) and update (PATCH, 404 when not).
 * map_index names the task instance: -1 for an unmapped task, 0..n-1 for a mapped task's instances (docs/mapping.md).
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { ConflictError, NotFoundError, type DagRunRecord, type XComRecord, built, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { dateRangeShape, likePattern, ranges } from "./list-params";
import { getDagOr404, getDagRunOr404, getTaskInstanceOr404 } from "./lookups";
import { teamOf } from "./team";
import { serializeXCom } from "./serialize";
import { pagingQuery, parseBody, parseQuery, queryBool } from "./validate";

export const ListXComQuery = lazySchema(() =>
  z.object({
    ...pagingQuery,
    xcom_key: z.string().min(1).optional(),
    map_index: z.coerce.number().int().min(-1).optional(),
    map_index_filter: z.coerce.number().int().optional(),
    xcom_key_pattern: likePattern,
    dag_display_name_pattern: likePattern,
    run_id_pattern: likePattern,
    task_id_pattern: likePattern,
    ...dateRangeShape(["logical_date", "run_after"] as const),
  }),
);
export const GetXComQuery = lazySchema(() =>
  z.object({
    map_index: z.coerce.number().int().min(-1).optional(),
    /** Values are stored as JSON and always come back parsed, so this changes nothing; accepted as Airflow does. */
    deserialize: queryBool.optional(),
    stringify: queryBool.optional(),
  }),
);
const mapIndex = lazySchema(() => z.number().int().min(-1).default(-1));
/** `value` may be null but must be sent (zod treats an unknown-typed key as optional). */
function valueRequired(b: { value?: unknown }, ctx: z.RefinementCtx) {
  if (b.value === undefined)
    ctx.addIssue({ code: "custom", path: ["value"], message: "Field required: send the XCom value (null is allowed)" });
}
/** Airflow's XComCreateBody. */
export const XComCreateBody = lazySchema(() =>
  z
    .object({ key: z.string().min(1), value: z.unknown(), map_index: built(mapIndex) })
    .strict()
    .superRefine(valueRequired),
);
/** Airflow's XComUpdateBody. */
export const XComUpdateBody = lazySchema(() =>
  z
    .object({ value: z.unknown(), map_index: built(mapIndex) })
    .strict()
    .superRefine(valueRequired),
);

/** XComResponseString: the value as text (JSON for anything but a string). */
function stringified(x: XComRecord, run: DagRunRecord) {
  const v = x.value;
  return { ...serializeXCom(x, run, false), value: v == null ? null : typeof v === "string" ? v : JSON.stringify(v) };
}

export function xcomRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const TI = "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id";
  const load = async (c: { req: { param(name: string): string } } & Context<ApiEnv>, mapIndex = -1) => {
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    return { run, ti: await getTaskInstanceOr404(store, run.team, run.dag_id, run.run_id, c.req.param("task_id"), mapIndex) };
  };

  /**
   * The named instance, or without a map index the task's: its -1 instance, or once it expanded its instance 0 (the
   * -1 one becomes 0 at expansion and 0 goes back to -1 when cleared whole, so a task in the run has one of them).
   */
  const taskInRunOr404 = async (run: DagRunRecord, taskId: string, mapIndex: number | undefined) => {
    const find = (index: number) => store.getTaskInstance(run.team, run.dag_id, run.run_id, taskId, index);
    if (mapIndex === undefined && ((await find(-1)) ?? (await find(0)))) return;
    await getTaskInstanceOr404(store, run.team, run.dag_id, run.run_id, taskId, mapIndex ?? -1);
  };

  app.get(`${TI}/xcomEntries`, async (c) => {
    const [dagId, runId, taskId] = ["dag_id", "dag_run_id", "task_id"].map((n) => c.req.param(n)) as [string, string, string];
    const q = parseQuery(c, ListXComQuery);
    // `~` for any of the three means every one; a named one must exist.
    const mapIndex = q.map_index ?? q.map_index_filter;
    if (dagId !== "~" && runId !== "~") {
      const run = await getDagRunOr404(store, teamOf(c), dagId, runId);
      if (taskId !== "~") await taskInRunOr404(run, taskId, mapIndex);
    } else if (dagId !== "~") await getDagOr404(store, teamOf(c), dagId);
    const page = await store.listXComs(teamOf(c), {
      dag_id: dagId === "~" ? undefined : dagId,
      run_id: runId === "~" ? undefined : runId,
      task_id: taskId === "~" ? undefined : taskId,
      map_index: mapIndex,
      key: q.xcom_key,
      key_pattern: q.xcom_key_pattern,
      dag_id_pattern: q.dag_display_name_pattern, // a DAG's display name is its id
      run_id_pattern: q.run_id_pattern,
      task_id_pattern: q.task_id_pattern,
      ...ranges(q, ["logical_date", "run_after"]),
      limit: q.limit,
      offset: q.offset,
      order_by: q.order_by,
    });
    const runs = new Map<string, DagRunRecord | null>();
    const entries = [];
    for (const x of page.items) {
      const k = JSON.stringify([x.dag_id, x.run_id]);
      if (!runs.has(k)) runs.set(k, await store.getDagRun(x.team, x.dag_id, x.run_id));
      entries.push(serializeXCom(x, runs.get(k) ?? null, false));
    }
    return c.json({ xcom_entries: entries, total_entries: page.total });
  });

  app.get(`${TI}/xcomEntries/:xcom_key`, async (c) => {
    const q = parseQuery(c, GetXComQuery);
    const { run, ti } = await load(c, q.map_index);
    const key = c.req.param("xcom_key");
    const x = await store.getXCom({
      team: run.team,
      dag_id: run.dag_id,
      run_id: run.run_id,
      task_id: ti.task_id,
      key,
      map_index: q.map_index,
    });
    if (!x) throw new NotFoundError(`XCom entry with key: \`${key}\` not found for task ${ti.task_id} of run ${run.run_id}`);
    return c.json(q.stringify ? stringified(x, run) : serializeXCom(x, run, true));
  });

  app.post(`${TI}/xcomEntries`, async (c) => {
    const body = await parseBody(c, XComCreateBody);
    const { run, ti } = await load(c, body.map_index);
    const key = { team: run.team, dag_id: run.dag_id, run_id: run.run_id, task_id: ti.task_id, key: body.key, map_index: body.map_index };
    // The check and the write are one store call: two creates at once get one 201 and one 409, and a run deleted
    // since load() is left no entry.
    const created = await store.insertXCom(key, body.value ?? null, deps.now());
    if (created) return c.json(serializeXCom(created, run, true), 201);
    if (await store.getXCom(key))
      throw new ConflictError(
        `The XCom with key: \`${body.key}\` with mentioned task instance already exists; change it with PATCH …/xcomEntries/${body.key}`,
      );
    throw new NotFoundError(`task ${ti.task_id} of run ${run.run_id} no longer exists (its run was deleted meanwhile); no XCom was stored`);
  });

  app.patch(`${TI}/xcomEntries/:xcom_key`, async (c) => {
    const body = await parseBody(c, XComUpdateBody);
    const { run, ti } = await load(c, body.map_index);
    const key = {
      team: run.team,
      dag_id: run.dag_id,
      run_id: run.run_id,
      task_id: ti.task_id,
      key: c.req.param("xcom_key"),
      map_index: body.map_index,
    };
    // Replaced only if it exists, in the write itself: an entry deleted since is not created again.
    const updated = await store.updateXCom(key, body.value ?? null, deps.now());
    if (!updated)
      throw new NotFoundError(
        `The XCom with key: \`${key.key}\` with mentioned task instance doesn't exist; create it with POST …/xcomEntries`,
      );
    return c.json(serializeXCom(updated, run, true));
  });

  return app;
}
