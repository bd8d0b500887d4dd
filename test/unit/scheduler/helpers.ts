/** Builders and a tiny in-memory applier, so planner tests read as timelines. */
import {
  canTransition,
  type DagSpec,
  type TaskState,
  type DagRunRecord,
  type TaskInstanceRecord,
  type TaskTransition,
} from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

export const T0 = new Date("2026-01-01T00:00:00Z");
export const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

type TaskInput = { task_id: string; upstream?: string[] } & Record<string, unknown>;

/** A DAG of bash tasks; each task may override any field. */
export function dag(tasks: TaskInput[], extra: Record<string, unknown> = {}): DagSpec {
  return parseDagSpec({
    dag_id: "etl",
    tasks: tasks.map((t) => ({ operator: "bash", bash_command: "true", ...t })),
    ...extra,
  });
}

export function run(state: DagRunRecord["state"] = "running"): DagRunRecord {
  return {
    id: 1,
    team: "default",
    dag_id: "etl",
    run_id: "manual__1",
    run_type: "manual",
    state,
    logical_date: null,
    data_interval_start: null,
    data_interval_end: null,
    conf: {},
    version_id: 1,
    queued_at: T0,
    start_date: state === "queued" ? null : T0,
    end_date: null,
    note: null,
  };
}

/** One task instance per task of `spec`, in state none, try 1, max_tries = retries; overrides by task_id. */
export function tis(spec: DagSpec, states: Record<string, Partial<TaskInstanceRecord> | TaskState> = {}): TaskInstanceRecord[] {
  return spec.tasks.map((t, i) => {
    const o = states[t.task_id];
    const over = typeof o === "string" ? { state: o } : (o ?? {});
    return {
      id: i + 1,
      dag_run_id: 1,
      team: "default",
      dag_id: "etl",
      run_id: "manual__1",
      task_id: t.task_id,
      map_index: -1,
      state: "none",
      try_number: 1,
      max_tries: t.retries,
      operator: t.operator,
      pool: t.pool,
      pool_slots: t.pool_slots,
      priority_weight: t.priority_weight,
      queued_at: null,
      start_date: null,
      end_date: null,
      last_heartbeat: null,
      hostname: null,
      pid: null,
      executor: null,
      note: null,
      wait_reason: null,
      updated_at: T0,
      ...over,
    };
  });
}

/** Applies transitions the way the store does: conditional on state and try, legal by the state machine. */
export function apply(rows: TaskInstanceRecord[], transitions: TaskTransition[], now: Date): TaskInstanceRecord[] {
  const byId = new Map(rows.map((r) => [r.id, { ...r }]));
  for (const t of transitions) {
    const row = byId.get(t.id);
    if (!row || !t.from.includes(row.state)) continue;
    if (t.try_number !== undefined && row.try_number !== t.try_number) continue;
    if (!canTransition(row.state, t.to)) throw new Error(`illegal ${row.state} -> ${t.to} for ${row.task_id}`);
    Object.assign(row, t.patch ?? {}, { state: t.to, updated_at: now, wait_reason: null });
  }
  return rows.map((r) => byId.get(r.id)!);
}

/** Sets one task instance's state as a worker or agent would (e.g. running → failed with end_date). */
export function report(rows: TaskInstanceRecord[], taskId: string, patch: Partial<TaskInstanceRecord>): TaskInstanceRecord[] {
  return rows.map((r) => (r.task_id === taskId ? { ...r, ...patch } : r));
}

export const states = (rows: TaskInstanceRecord[]) => Object.fromEntries(rows.map((r) => [r.task_id, r.state]));
export const moves = (transitions: TaskTransition[], rows: TaskInstanceRecord[]) =>
  transitions.map((t) => `${rows.find((r) => r.id === t.id)!.task_id}:${t.from.join("|")}->${t.to}`);
