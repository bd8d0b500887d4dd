/**
 * Marking by hand (Airflow's PATCH …/taskInstances/{task_id} with new_state, PATCH …/dagRuns/{dag_run_id}
 * with state): what changes is decided by scheduler/mark.ts, written in one store transaction, and the
 * scheduler is woken to plan the run again.
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  ConflictError,
  NotFoundError,
  type DagRunRecord,
  type DagSpec,
  type OperatorChange,
  type TaskInstanceRecord,
  built,
  lazySchema,
} from "../domain";
import { MARKABLE_RUN_STATES, MARKABLE_TASK_STATES, planRunMark, planTaskMark, userNote, type MarkInput } from "../scheduler";
import type { RecordLookups, RunsApiStore } from "../store";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError } from "./errors";
import { getDagRunOr404, getTaskInstanceOr404 } from "./lookups";
import { teamOf } from "./team";
import { serializeDagRun, serializeTaskInstance } from "./serialize";
import { runVersionTimes } from "./version-times";
import { logStoppedTries } from "./stopped-tries";
import { MapIndex } from "./task-instances";
import { parseBody, parsePathParam, parseQuery } from "./validate";

const note = lazySchema(() => z.string().max(1000).nullable().optional());

/** Airflow 3's PatchTaskInstanceBody (new_state is case-insensitive). */
export const PatchTaskInstanceBody = lazySchema(() =>
  z
    .object({
      new_state: z
        .string({ error: "'new_state' should not be empty" })
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(MARKABLE_TASK_STATES, { error: (i) => `'${String(i.input)}' is not one of ${JSON.stringify(MARKABLE_TASK_STATES)}` }))
        .optional(),
      note: built(note),
      include_upstream: z.boolean().default(false),
      include_downstream: z.boolean().default(false),
      include_future: z.literal(false, { error: "include_future is not supported; clear or mark each run" }).optional(),
      include_past: z.literal(false, { error: "include_past is not supported; clear or mark each run" }).optional(),
    })
    .strict(),
);

/** Airflow 3's DAGRunPatchBody. */
export const PatchDagRunBody = lazySchema(() =>
  z
    .object({
      state: z.enum(MARKABLE_RUN_STATES, { error: `state must be one of ${MARKABLE_RUN_STATES.join(", ")}` }).optional(),
      note: built(note),
    })
    .strict(),
);

export const MaskQuery = lazySchema(() => z.object({ update_mask: z.array(z.string()).optional() }));

/** Keeps only the fields the update_mask names (all sent fields without one); unknown names are a 400. */
function masked<T extends Record<string, unknown>>(body: T, mask: string[] | undefined, allowed: string[]): Partial<T> {
  if (!mask) return body;
  const unknown = mask.filter((f) => !allowed.includes(f));
  if (unknown.length) throw new ApiError(400, `update_mask names unknown field(s) ${unknown.join(", ")}; use ${allowed.join(", ")}`);
  return Object.fromEntries(Object.entries(body).filter(([k]) => mask.includes(k))) as Partial<T>;
}

async function markInput(
  store: Pick<RunsApiStore, "loadRunSnapshots"> & Pick<RecordLookups, "getDagVersion">,
  run: DagRunRecord,
): Promise<MarkInput> {
  const [snap] = await store.loadRunSnapshots([run.id]);
  const spec: DagSpec | null = await store.getDagVersion(run.version_id);
  if (!snap || !spec) throw new Error(`run ${run.run_id} or its DAG version ${run.version_id} is missing from the store`);
  return { run: snap.run, tis: snap.tis, spec };
}

/**
 * Applies a planned mark; a conditional write that lost a race (the state moved meanwhile) is a 409. A try it
 * took from its agent mid-run gets a line saying so in its log (stopped-tries.ts): `before`, the run's task
 * instances as the mark read them.
 */
async function apply(
  deps: ResolvedDeps,
  change: OperatorChange,
  what: string,
  before: readonly TaskInstanceRecord[] = [],
  by: string | null = null,
): Promise<void> {
  const done = await deps.store.applyOperatorChange(change, deps.now());
  const marked = (change.transitions ?? []).map((t, i) => ({ id: t.id, what: `marked ${t.to}`, applied: done.transitions[i] === true }));
  await logStoppedTries(deps, before, marked, by);
  if (done.transitions.some((ok) => !ok) || done.runs.some((ok) => !ok))
    throw new ConflictError(`${what} changed state while it was being marked; some changes were not applied; read it again and retry`);
}

export type TaskInstancePatch = Partial<z.output<typeof PatchTaskInstanceBody>>;

/**
 * Applies (or with dryRun only plans) one task-instance PATCH and returns the ids of every task instance it
 * changes, the addressed one first. Shared by the single PATCH routes and the bulk PATCH.
 */
export async function markTaskInstance(
  deps: ResolvedDeps,
  run: DagRunRecord,
  ti: TaskInstanceRecord,
  body: TaskInstancePatch,
  opts: { dryRun: boolean; by: string | null },
): Promise<number[]> {
  const { store } = deps;
  const ids = [ti.id];
  if (body.new_state) {
    const input = await markInput(store, run);
    const change = planTaskMark(input, ti.task_id, body.new_state, deps.now(), {
      note: body.note,
      upstream: body.include_upstream ?? false,
      downstream: body.include_downstream ?? false,
      mapIndex: ti.map_index,
    });
    ids.push(...(change.transitions ?? []).map((t) => t.id).filter((id) => id !== ti.id));
    if (!opts.dryRun) {
      await apply(deps, change, `task instance ${ti.task_id} of run ${run.run_id}`, input.tis, opts.by);
      deps.logger.info("task instance marked", {
        dag_id: run.dag_id,
        run_id: run.run_id,
        task_id: ti.task_id,
        state: body.new_state,
        by: opts.by,
      });
      deps.scheduler.wake(run.id);
    }
  } else if (body.note !== undefined && !opts.dryRun) {
    // The user's note, whatever the state: the scheduler's reasons go to another column and never replace it.
    const done = await store.applyOperatorChange({ user_notes: [userNote(ti.id, body.note)] }, deps.now());
    if (!done.user_notes[0])
      throw new NotFoundError(`task instance ${ti.task_id} of run ${run.run_id} was deleted while its note was being set`);
  }
  return ids;
}

export function markRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const RUN = "/dags/:dag_id/dagRuns/:dag_run_id";

  // Airflow's four PATCH forms: by task id or task id + map_index, each with a dry run
  // that answers which task instances the same body would change, without writing.
  const TI = `${RUN}/taskInstances/:task_id`;
  for (const [path, dryRun] of [
    [`${TI}/dry_run`, true],
    [`${TI}/:map_index{-?[0-9]+}/dry_run`, true],
    [TI, false],
    [`${TI}/:map_index{-?[0-9]+}`, false],
  ] as const)
    app.patch(path, async (c) => {
      const { update_mask } = parseQuery(c, MaskQuery, ["update_mask"]);
      const body = masked(await parseBody(c, PatchTaskInstanceBody), update_mask, ["new_state", "note"]);
      const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
      // By path (…/{map_index}) or, on the plain routes, Airflow's `map_index` query parameter.
      const rawIndex = c.req.param("map_index") ?? c.req.query("map_index");
      const mapIndex = rawIndex === undefined ? -1 : parsePathParam("map_index", rawIndex, MapIndex);
      const ti = await getTaskInstanceOr404(store, run.team, run.dag_id, run.run_id, c.req.param("task_id"), mapIndex);
      const ids = await markTaskInstance(deps, run, ti, body, { dryRun, by: c.get("user")?.username ?? null });
      // Read as the API shows them (a run snapshot has no user's note), the run too as it is now.
      const byId = new Map((await store.listTaskInstancesByIds(ids)).map((t) => [t.id, t]));
      const now = (await store.getDagRunById(run.id)) ?? run;
      const times = await runVersionTimes(store, [now]);
      const items = ids.flatMap((id) => {
        const t = byId.get(id);
        return t ? [serializeTaskInstance(t, now, times)] : [];
      });
      return c.json({ task_instances: items, total_entries: items.length });
    });

  app.patch(RUN, async (c) => {
    const { update_mask } = parseQuery(c, MaskQuery, ["update_mask"]);
    const body = masked(await parseBody(c, PatchDagRunBody), update_mask, ["state", "note"]);
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    if (body.state) {
      const input = await markInput(store, run);
      const change = planRunMark(input, body.state, deps.now(), body.note);
      await apply(deps, change, `dag run ${run.run_id}`, input.tis, c.get("user")?.username ?? null);
      deps.logger.info("dag run marked", {
        dag_id: run.dag_id,
        run_id: run.run_id,
        state: body.state,
        by: c.get("user")?.username ?? null,
      });
      deps.scheduler.wake(run.id);
    } else if (body.note !== undefined) {
      await apply(deps, { runs: [{ id: run.id, from: [run.state], to: run.state, note: body.note }] }, `dag run ${run.run_id}`);
    }
    const marked = (await store.getDagRunById(run.id))!;
    return c.json(serializeDagRun(marked, await runVersionTimes(store, [marked])));
  });

  return app;
}
