/**
 * Clearing task instances (Airflow's "clear"), pure: which task instances a clear touches, and what each
 * becomes. The API reads, these functions decide, the store applies everything in one transaction.
 */
import {
  downstreamOfSpec,
  isMapped,
  taskOfSpec,
  isTerminalDagRunState,
  type DagSpec,
  type TaskSpec,
  type TaskState,
  type DagRunRecord,
  type RunStateChange,
  type TaskClear,
  type TaskInstanceRecord,
} from "../domain";

export interface ClearSelection {
  /** Tasks named by the user; null = every task. */
  task_ids: readonly string[] | null;
  include_upstream?: boolean;
  include_downstream?: boolean;
  /** Only task instances in failed or upstream_failed (Airflow's only_failed). */
  only_failed?: boolean;
  /** Only task instances in running (Airflow's only_running). */
  only_running?: boolean;
  /** Task ids left out even if selected (marking a task clears its downstream but not itself). */
  exclude?: readonly string[];
  /** Of these named tasks, only the instances at these map indexes (Airflow's [task_id, map_index] pairs). */
  map_indexes?: ReadonlyMap<string, ReadonlySet<number>>;
}

/**
 * The named tasks plus, on request, everything upstream and/or downstream of them (transitively), within the
 * spec's tasks. Null task_ids selects every task. Edges come from the spec's own indexes (domain/task-lookup.ts),
 * built once per spec object.
 *
 * @example relatedTaskIds(spec, ["b"], { downstream: true }) // Set { "b", "c" } for a → b → c
 */
export function relatedTaskIds(
  spec: Pick<DagSpec, "tasks">,
  taskIds: readonly string[] | null,
  opts: { upstream?: boolean; downstream?: boolean } = {},
): Set<string> {
  if (taskIds === null) return new Set(spec.tasks.map((t) => t.task_id));
  const closure = (edges: (id: string) => readonly string[]): Set<string> => {
    const seen = new Set<string>();
    const stack = [...taskIds];
    while (stack.length) for (const next of edges(stack.pop()!)) if (!seen.has(next)) seen.add(next), stack.push(next);
    return seen;
  };
  const selected = new Set(taskIds);
  if (opts.upstream) for (const id of closure((id) => taskOfSpec(spec, id)?.upstream ?? [])) selected.add(id);
  if (opts.downstream) for (const id of closure((id) => downstreamOfSpec(spec, id))) selected.add(id);
  return selected;
}

const FAILED: ReadonlySet<TaskState> = new Set(["failed", "upstream_failed"]);

/**
 * The task instances of one run a clear touches, in the order given. Task instances already in `none`
 * are included (Airflow lists them) but need no write: see clearFor.
 */
export function selectClearTargets(
  spec: Pick<DagSpec, "tasks">,
  tis: readonly TaskInstanceRecord[],
  sel: ClearSelection,
): TaskInstanceRecord[] {
  const ids = relatedTaskIds(spec, sel.task_ids, { upstream: sel.include_upstream, downstream: sel.include_downstream });
  // With task_ids null, task instances of tasks no longer in the version are cleared too (they are the run's).
  const exclude = new Set(sel.exclude ?? []);
  return tis.filter(
    (ti) =>
      (sel.task_ids === null || ids.has(ti.task_id)) &&
      !exclude.has(ti.task_id) &&
      (sel.map_indexes?.get(ti.task_id)?.has(ti.map_index) ?? true) &&
      (!sel.only_failed || FAILED.has(ti.state)) &&
      (!sel.only_running || ti.state === "running"),
  );
}

/** States in which a try may have started (and written logs): clearing such a task instance starts a new try. */
// deferred: a waiting sensor's try has started; a new try number also makes a check in flight for the old one write nothing.
const ATTEMPTED: ReadonlySet<TaskState> = new Set(["queued", "running", "success", "failed", "up_for_retry", "deferred"]);

/**
 * What clearing one task instance writes; null for one already in `none` (nothing to do).
 * - try_number: +1 when the try may have started (an attempted state, or an agent registered: hostname
 *   set), so the new try has its own logs and an agent still running the old try is refused and stops;
 *   a try that never started (scheduled, or skipped/upstream_failed by a trigger rule) keeps its number.
 * - max_tries: Airflow's `try_number + retries` counted from the new try, so the retry budget starts afresh;
 *   for a task gone from the run's DAG version, the old budget, at least the tries used.
 *
 * @example clearFor({ state: "failed", try_number: 3, max_tries: 2, … }, { retries: 2, … }) // try 4, max_tries 5
 */
export function clearFor(ti: TaskInstanceRecord, task: Pick<TaskSpec, "retries"> | undefined): TaskClear | null {
  if (ti.state === "none") return null;
  const attempted = ATTEMPTED.has(ti.state) || ti.hostname !== null;
  const tryNumber = attempted ? ti.try_number + 1 : ti.try_number;
  const maxTries = task ? tryNumber - 1 + task.retries : Math.max(ti.max_tries, ti.try_number);
  return { id: ti.id, from: ti.state, from_try: ti.try_number, try_number: tryNumber, max_tries: maxTries };
}

/**
 * The clears of one run's `targets`. A mapped task cleared whole (every instance it has in the run is a
 * target) is expanded again once its upstreams are done, as in Airflow, so a rerun upstream that returns a
 * longer or shorter list gets as many instances: instance 0 becomes the unexpanded one (map_index -1) and the
 * others go to `removed`, keeping their tries and logs; the expansion revives those the new list still has.
 * Clearing some instances only (only_failed, one map_index) reruns them as they are. Instances already removed
 * stay removed, whatever the selection.
 *
 * @example clearsForRun(spec, runTis, runTis) // a mapped task of 3: [{ …, map_index: -1 }, { …, to: "removed" } ×2]
 */
export function clearsForRun(
  spec: Pick<DagSpec, "tasks">,
  runTis: readonly TaskInstanceRecord[],
  targets: readonly TaskInstanceRecord[],
): TaskClear[] {
  const tasks = new Map(spec.tasks.map((t) => [t.task_id, t]));
  const targeted = new Set(targets.map((t) => t.id));
  const wholeMaps = new Set(
    [...new Set(targets.filter((t) => t.map_index >= 0).map((t) => t.task_id))].filter((id) => {
      const task = tasks.get(id);
      const instances = runTis.filter((t) => t.task_id === id && t.map_index >= 0 && t.state !== "removed");
      return task !== undefined && isMapped(task) && instances.every((t) => targeted.has(t.id));
    }),
  );
  const clears: TaskClear[] = [];
  for (const ti of targets) {
    // An instance an earlier expansion removed is not part of the task's list: cleared to none it was launched with
    // no mapped argument and failed the run. It stays removed; the next expansion revives it if its list has it.
    if (ti.map_index >= 0 && ti.state === "removed") continue;
    const c = clearFor(ti, tasks.get(ti.task_id));
    if (!wholeMaps.has(ti.task_id) || ti.map_index < 0) {
      if (c) clears.push(c);
      continue;
    }
    // An instance still in `none` needs no clear of its own, but it still collapses or goes.
    const base = c ?? { id: ti.id, from: ti.state, from_try: ti.try_number, try_number: ti.try_number, max_tries: ti.max_tries };
    clears.push(ti.map_index === 0 ? { ...base, map_index: -1 } : { ...base, to: "removed" });
  }
  return clears;
}

/** A finished run goes back to queued when something in it was cleared (reset_dag_runs); an active one stays. */
export function requeueAfterClear(run: Pick<DagRunRecord, "id" | "state" | "note">): RunStateChange | null {
  return isTerminalDagRunState(run.state) ? { id: run.id, from: [run.state], to: "queued", ...outdatedRunNote(run) } : null;
}

/** The notes the scheduler writes on a run it ends (planner.ts, run-timeout.ts, the reapers), each explaining that end. */
const SCHEDULER_RUN_NOTE = /^(task\(s\) failed: |task\(s\) upstream_failed: |deadlock: |dagrun_timeout \(|orphaned: )/;

/**
 * `{ note: null }` when a run's note is the scheduler's explanation of the end it is leaving (requeued by a clear,
 * or its outcome changed by a mark), else nothing: a cleared run that then succeeded still said "task(s) failed:
 * each". A note a user wrote stays. Pure.
 */
export function outdatedRunNote(run: Pick<DagRunRecord, "note">): { note?: null } {
  return run.note && SCHEDULER_RUN_NOTE.test(run.note) ? { note: null } : {};
}

/**
 * The note the scheduler writes with a run's end, unless the run's note is a user's (given at the trigger or
 * patched since): the note is the user's to keep, as in Airflow, which never writes it; the end's reason is then in
 * the task instances and the log. Pure.
 *
 * @example endNote({ note: "investigating INC-42" }, "task(s) failed: a") // {}
 */
export function endNote(run: Pick<DagRunRecord, "note">, note: string | undefined): { note?: string } {
  if (note === undefined) return {};
  return run.note === null || SCHEDULER_RUN_NOTE.test(run.note) ? { note } : {};
}
