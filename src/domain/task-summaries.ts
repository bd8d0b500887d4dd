/**
 * A run's task instances as the DAG page's grid shows them (pure): one summary per task. An unmapped task's is its
 * task instance; a mapped task's folds its instances into their count, their states counted, and the state that
 * matters most (still moving, then failed, then the rest), as Airflow's grid summarises mapped tasks. The store
 * hands the mapped instances over already grouped by task and state, so a task mapped over 10,000 items is a
 * handful of rows, not 10,000. Instances a re-expansion removed are left out while any other remains.
 */
import type { TaskInstanceRecord } from "./records";
import type { TaskState } from "./states";

/** A mapped task's instances in one state (the store's GROUP BY task_id, state over map_index >= 0). */
export interface MappedStateGroup {
  task_id: string;
  state: TaskState;
  count: number;
  /** The group's highest try and tries allowed. */
  try_number: number;
  max_tries: number;
  /** The group's earliest start and latest end; `ended`: how many of its instances have an end. */
  start_date: Date | null;
  end_date: Date | null;
  ended: number;
}

/** What the store reads for a run's summaries: its unmapped task instances, and its mapped ones grouped. */
export interface TaskInstanceSummarySource {
  /** map_index -1, in task instance id order. */
  unmapped: Pick<TaskInstanceRecord, "task_id" | "state" | "try_number" | "max_tries" | "start_date" | "end_date">[];
  /** map_index >= 0, grouped by task and state, in the order of each group's first task instance id. */
  mapped: MappedStateGroup[];
}

/** One task's cell: a task instance's fields, and for a mapped task its instances' count and states counted. */
export interface TaskInstanceSummary {
  task_id: string;
  /** -1: the task instance of an unmapped task (or of a mapped one not expanded); null: a mapped task's instances folded. */
  map_index: number | null;
  state: TaskState;
  try_number: number;
  max_tries: number;
  start_date: Date | null;
  /** A folded task's latest end once every instance shown has ended, else null. */
  end_date: Date | null;
  mapped_count?: number;
  /** Most telling state first (MAPPED_PRECEDENCE). */
  mapped_states?: Record<string, number>;
}

/**
 * Most telling first: a folded cell shows the first of these that any instance is in. Instances not yet scheduled
 * (none) come before success and skipped, as in Airflow's grid: a task whose instances are not all done is not
 * shown done.
 */
export const MAPPED_PRECEDENCE: readonly TaskState[] = [
  "running",
  "queued",
  "scheduled",
  "up_for_retry",
  "up_for_reschedule",
  "deferred",
  "failed",
  "upstream_failed",
  "none",
  "success",
  "skipped",
];
const rank = (s: TaskState) => {
  const i = MAPPED_PRECEDENCE.indexOf(s);
  return i < 0 ? MAPPED_PRECEDENCE.length : i;
};

/**
 * One summary per task, unmapped tasks in the order given, then mapped ones in the order their groups first
 * appear. A mapped task cleared whole waits at map_index -1 to expand again with its old instances removed: its
 * -1 instance is its cell.
 */
export function summarizeTaskInstances({ unmapped, mapped }: TaskInstanceSummarySource): TaskInstanceSummary[] {
  const out = new Map<string, TaskInstanceSummary>();
  for (const ti of unmapped)
    out.set(ti.task_id, {
      task_id: ti.task_id,
      map_index: -1,
      state: ti.state,
      try_number: ti.try_number,
      max_tries: ti.max_tries,
      start_date: ti.start_date,
      end_date: ti.end_date,
    });
  for (const [taskId, groups] of Map.groupBy(mapped, (g) => g.task_id)) {
    const live = groups.filter((g) => g.state !== "removed");
    if (!live.length && out.has(taskId)) continue;
    const shown = (live.length ? live : groups).slice().sort((a, b) => rank(a.state) - rank(b.state));
    const count = shown.reduce((n, g) => n + g.count, 0);
    const starts = shown.flatMap((g) => (g.start_date ? [g.start_date.getTime()] : []));
    const allEnded = shown.every((g) => g.ended === g.count && g.end_date);
    out.set(taskId, {
      task_id: taskId,
      map_index: null,
      state: shown[0]!.state,
      try_number: Math.max(...shown.map((g) => g.try_number)),
      max_tries: Math.max(...shown.map((g) => g.max_tries)),
      start_date: starts.length ? new Date(Math.min(...starts)) : null,
      end_date: allEnded ? new Date(Math.max(...shown.map((g) => g.end_date!.getTime()))) : null,
      mapped_count: count,
      mapped_states: Object.fromEntries(shown.map((g) => [g.state, g.count])),
    });
  }
  return [...out.values()];
}
