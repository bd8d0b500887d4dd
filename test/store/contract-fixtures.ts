/** Helpers shared by the store contract files and the per-store tests. */
import type { DagRecord, NewDagRun, RunSnapshot } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";

export const T0 = new Date("2026-01-01T00:00:00.000Z");

type RunTask = NewDagRun["tasks"][number];

/** A task instance row of a new run: bash, no retries, one slot of the default pool, weight 1; `over` replaces any field. */
export function runTask(task_id: string, over: Partial<RunTask> = {}): RunTask {
  return { task_id, operator: "bash", max_tries: 0, pool: "default_pool", pool_slots: 1, priority_weight: 1, ...over };
}

/** A manual run of `dag` (in its team) queued at T0, with one bash task "t" in the default pool; `over` replaces any field. */
export function newRun(dag: Pick<DagRecord, "team" | "dag_id" | "version_id">, runId: string, over: Partial<NewDagRun> = {}): NewDagRun {
  return {
    team: dag.team,
    dag_id: dag.dag_id,
    run_id: runId,
    run_type: "manual",
    logical_date: null,
    data_interval_start: null,
    data_interval_end: null,
    conf: {},
    version_id: dag.version_id,
    queued_at: T0,
    tasks: [runTask("t")],
    ...over,
  };
}

/**
 * DAG `dagId` of independent bash tasks `taskIds` (stored at T0) and its manual run `runId`: the run and its task
 * instances as loadRunSnapshots reads them.
 */
export async function runOfBashTasks(store: Store, dagId: string, taskIds: readonly string[], runId = "r1"): Promise<RunSnapshot> {
  const dag = await store.upsertDag("default", {
    spec: parseDagSpec({ dag_id: dagId, tasks: taskIds.map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })) }),
    fileloc: `/dags/${dagId}.json`,
    pausedOnCreate: false,
    now: T0,
  });
  const run = await store.createDagRun(newRun(dag, runId, { tasks: taskIds.map((id) => runTask(id)) }));
  const [snap] = await store.loadRunSnapshots([run.id]);
  return snap!;
}
