/**
 * Clearing task instances (Airflow's POST /dags/{dag_id}/clearTaskInstances and
 * POST /dags/{dag_id}/dagRuns/{dag_run_id}/clear): the selection and the new tries are decided by the pure
 * functions in scheduler/clear.ts; everything one request changes is written in one store transaction.
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  NotFoundError,
  ValidationError,
  type DagRecord,
  type DagRunRecord,
  type DagSpec,
  type RunSnapshot,
  type RunStateChange,
  type TaskClear,
  type TaskInstanceRecord,
  lazySchema,
} from "../domain";
import { clearsForRun, requeueAfterClear, selectClearTargets, type ClearSelection } from "../scheduler";
import type { DagsQueryStore, RecordLookups, RunsApiStore, TaskInstancesApiStore } from "../store";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError } from "./errors";
import { getDagOr404, getDagRunOr404 } from "./lookups";
import { teamOf } from "./team";
import { serializeDagRun, serializeTaskInstance } from "./serialize";
import { runVersionTimes } from "./version-times";
import { logStoppedTries } from "./stopped-tries";
import { isoDateTime, parseBody } from "./validate";

const notLatestVersion = lazySchema(() =>
  z.literal(false, {
    error: "run_on_latest_version is not supported: a Leoflow run keeps the DAG version it was created with",
  }),
);

/** Airflow 3's ClearTaskInstancesBody, with its defaults (dry_run and only_failed default to true). */
export const ClearTaskInstancesBody = lazySchema(() =>
  z
    .object({
      dry_run: z.boolean().default(true),
      start_date: isoDateTime.nullable().optional(),
      end_date: isoDateTime.nullable().optional(),
      only_failed: z.boolean().default(true),
      only_running: z.boolean().default(false),
      reset_dag_runs: z.boolean().default(true),
      // A [task_id, map_index] pair names one instance of a mapped task; a bare task id, all of its instances.
      task_ids: z
        .array(z.union([z.string().min(1), z.tuple([z.string().min(1), z.number().int()])]))
        .min(1, "task_ids list should have at least 1 element.")
        .nullable()
        .optional(),
      dag_run_id: z.string().min(1).nullable().optional(),
      include_upstream: z.boolean().default(false),
      include_downstream: z.boolean().default(false),
      include_future: z.boolean().default(false),
      include_past: z.boolean().default(false),
      run_on_latest_version: notLatestVersion.optional(),
      prevent_running_task: z.boolean().default(false),
    })
    .strict()
    .superRefine((b, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
      if (b.only_failed && b.only_running)
        issue("only_running", "only_failed and only_running both are set to True; set only_failed to false");
      if (b.start_date && b.end_date && b.start_date > b.end_date) issue("end_date", "end_date is sooner than start_date");
      if (b.dag_run_id && (b.start_date || b.end_date))
        issue("dag_run_id", "Exactly one of dag_run_id or (start_date and end_date) must be provided");
    }),
);

/** Airflow 3's DAGRunClearBody. */
export const ClearDagRunBody = lazySchema(() =>
  z
    .object({
      dry_run: z.boolean().default(true),
      only_failed: z.boolean().default(false),
      run_on_latest_version: notLatestVersion.optional(),
    })
    .strict(),
);

interface Target {
  ti: TaskInstanceRecord;
  run: DagRunRecord;
}

/** Runs with their task instances and pinned specs (one snapshot read). */
async function loadRuns(
  store: Pick<RunsApiStore, "loadRunSnapshots"> & Pick<RecordLookups, "getDagVersion">,
  runs: DagRunRecord[],
): Promise<{ snap: RunSnapshot; spec: DagSpec }[]> {
  const snaps = await store.loadRunSnapshots(runs.map((r) => r.id));
  const specs = new Map<number, DagSpec>();
  const out: { snap: RunSnapshot; spec: DagSpec }[] = [];
  for (const snap of snaps) {
    let spec = specs.get(snap.run.version_id);
    if (!spec) {
      const loaded = await store.getDagVersion(snap.run.version_id);
      if (!loaded) throw new Error(`DAG version ${snap.run.version_id} of run ${snap.run.run_id} is missing from the store`);
      specs.set(snap.run.version_id, (spec = loaded));
    }
    out.push({ snap, spec });
  }
  return out;
}

/**
 * Every run of the team's DAG whose logical_date is within [start, end] (a null bound is open; null dates match
 * only open ranges).
 */
async function runsBetween(
  store: Pick<RunsApiStore, "listDagRuns">,
  team: string,
  dagId: string,
  start: Date | null,
  end: Date | null,
): Promise<DagRunRecord[]> {
  const runs: DagRunRecord[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await store.listDagRuns(team, { dag_id: dagId, limit: 1000, offset, order_by: "id" });
    runs.push(...page.items);
    if (page.items.length < 1000) break;
  }
  if (!start && !end) return runs;
  return runs.filter((r) => r.logical_date && (!start || r.logical_date >= start) && (!end || r.logical_date <= end));
}

/**
 * Clears `targets` in one transaction: each to none on its next try, XComs deleted, and (resetRuns) each
 * finished run holding one of them back to queued. Wakes the scheduler for every run touched.
 */
export async function applyClear(
  deps: ResolvedDeps,
  targets: Target[],
  snapshots: Map<number, { spec: DagSpec; tis: readonly TaskInstanceRecord[] }>,
  resetRuns: boolean,
  by: string | null,
): Promise<void> {
  const clears: TaskClear[] = [];
  const runs = new Map<number, DagRunRecord>();
  for (const t of targets) runs.set(t.run.id, t.run);
  for (const run of runs.values()) {
    const snap = snapshots.get(run.id)!;
    const ofRun = targets.filter((t) => t.run.id === run.id).map((t) => t.ti);
    clears.push(...clearsForRun(snap.spec, snap.tis, ofRun));
  }
  const runChanges: RunStateChange[] = resetRuns ? [...runs.values()].map(requeueAfterClear).filter((r) => r !== null) : [];
  const done = await deps.store.applyOperatorChange({ clears, runs: runChanges }, deps.now());
  const before = [...snapshots.values()].flatMap((s) => s.tis);
  await logStoppedTries(
    deps,
    before,
    clears.map((t, i) => ({ id: t.id, what: "cleared", applied: done.clears[i] === true })),
    by,
  );
  const missed = done.clears.filter((ok) => !ok).length;
  if (missed) deps.logger.warn("some task instances changed while being cleared and were left as they are", { missed });
  for (const id of runs.keys()) deps.scheduler.wake(id);
}

async function serializeTargets(
  store: Pick<RunsApiStore, "loadRunSnapshots"> &
    Pick<TaskInstancesApiStore, "listTaskInstancesByIds"> &
    Pick<DagsQueryStore, "listDagVersions">,
  targets: Target[],
  fresh: boolean,
) {
  let items = targets;
  if (fresh) {
    const now = new Map(
      (await store.loadRunSnapshots([...new Set(targets.map((t) => t.run.id))])).flatMap((s) =>
        s.tis.map((ti) => [ti.id, { ti, run: s.run }] as const),
      ),
    );
    items = targets.map((t) => now.get(t.ti.id) ?? t);
  }
  // The task instances as the API shows them: a snapshot (the scheduler's read) has no user's note.
  const shown = new Map((await store.listTaskInstancesByIds(items.map((t) => t.ti.id))).map((ti) => [ti.id, ti]));
  items = items.map((t) => ({ ...t, ti: shown.get(t.ti.id) ?? t.ti }));
  const times = await runVersionTimes(
    store,
    items.map((t) => t.run),
  );
  return { task_instances: items.map((t) => serializeTaskInstance(t.ti, t.run, times)), total_entries: items.length };
}

/** The tasks named only by [task_id, map_index] pairs, with their map indexes; a task also named bare is cleared whole. */
function instancesNamed(taskIds: readonly (string | readonly [string, number])[]): Map<string, Set<number>> {
  const whole = new Set(taskIds.filter((t) => typeof t === "string"));
  const out = new Map<string, Set<number>>();
  for (const t of taskIds) if (typeof t !== "string" && !whole.has(t[0])) out.set(t[0], (out.get(t[0]) ?? new Set()).add(t[1]));
  return out;
}

function checkTaskIds(dag: DagRecord, taskIds: string[] | null): void {
  if (!taskIds) return;
  const known = new Set(dag.spec.tasks.map((t) => t.task_id));
  const unknown = taskIds.filter((id) => !known.has(id));
  if (unknown.length)
    throw new NotFoundError(`task(s) ${unknown.join(", ")} not found in DAG ${dag.dag_id}; its tasks are ${[...known].join(", ")}`);
}

export function clearRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.post("/dags/:dag_id/clearTaskInstances", async (c) => {
    const body = await parseBody(c, ClearTaskInstancesBody);
    const dag = await getDagOr404(store, teamOf(c), c.req.param("dag_id"));
    const taskIds = body.task_ids ? [...new Set(body.task_ids.map((t) => (typeof t === "string" ? t : t[0])))] : null;
    checkTaskIds(dag, taskIds);
    const mapIndexes = instancesNamed(body.task_ids ?? []);

    let runs: DagRunRecord[];
    if (body.dag_run_id) {
      const run = await store.getDagRun(dag.team, dag.dag_id, body.dag_run_id);
      if (!run) throw new NotFoundError(`Dag Run id ${body.dag_run_id} not found in dag ${dag.dag_id}`);
      if ((body.include_past || body.include_future) && !run.logical_date)
        throw new ValidationError("Cannot use include_past or include_future with no logical_date(e.g. manually or asset-triggered).");
      runs =
        body.include_past || body.include_future
          ? await runsBetween(
              store,
              dag.team,
              dag.dag_id,
              body.include_past ? null : run.logical_date,
              body.include_future ? null : run.logical_date,
            )
          : [run];
    } else
      runs = await runsBetween(
        store,
        dag.team,
        dag.dag_id,
        body.include_past ? null : (body.start_date ?? null),
        body.include_future ? null : (body.end_date ?? null),
      );

    const sel: ClearSelection = {
      task_ids: taskIds,
      include_upstream: body.include_upstream,
      include_downstream: body.include_downstream,
      only_failed: body.only_failed,
      only_running: body.only_running,
      map_indexes: mapIndexes,
    };
    const targets: Target[] = [];
    const snapshots = new Map<number, { spec: DagSpec; tis: readonly TaskInstanceRecord[] }>();
    for (const { snap, spec } of await loadRuns(store, runs)) {
      snapshots.set(snap.run.id, { spec, tis: snap.tis });
      for (const ti of selectClearTargets(spec, snap.tis, sel)) targets.push({ ti, run: snap.run });
    }
    if (body.prevent_running_task) {
      const running = targets.filter((t) => t.ti.state === "running").map((t) => `${t.ti.task_id} (${t.run.run_id})`);
      if (running.length)
        // 409 as Airflow's AirflowClearRunningTaskException: the request is fine, the task instances' state is not.
        throw new ApiError(
          409,
          `Cannot clear task instances that are running while prevent_running_task is set: ${running.join(", ")}; wait for them to finish, or clear without prevent_running_task`,
        );
    }
    if (!body.dry_run) {
      await applyClear(deps, targets, snapshots, body.reset_dag_runs, c.get("user")?.username ?? null);
      deps.logger.info("task instances cleared", { dag_id: dag.dag_id, count: targets.length, by: c.get("user")?.username ?? null });
    }
    return c.json(await serializeTargets(store, targets, !body.dry_run));
  });

  app.post("/dags/:dag_id/dagRuns/:dag_run_id/clear", async (c) => {
    const body = await parseBody(c, ClearDagRunBody);
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    const [loaded] = await loadRuns(store, [run]);
    const { snap, spec } = loaded!;
    const targets = selectClearTargets(spec, snap.tis, { task_ids: null, only_failed: body.only_failed }).map((ti) => ({
      ti,
      run: snap.run,
    }));
    if (body.dry_run) return c.json(await serializeTargets(store, targets, false));
    await applyClear(deps, targets, new Map([[run.id, { spec, tis: snap.tis }]]), true, c.get("user")?.username ?? null);
    deps.logger.info("dag run cleared", {
      dag_id: run.dag_id,
      run_id: run.run_id,
      count: targets.length,
      by: c.get("user")?.username ?? null,
    });
    const cleared = (await store.getDagRunById(run.id))!;
    return c.json(serializeDagRun(cleared, await runVersionTimes(store, [cleared])));
  });

  return app;
}
