/**
 * ReportState `up_for_reschedule`: a user check (bash, ts) in mode reschedule said "not yet". The try ends
 * holding no slot and keeping its try_number; the next check is planned here from the pure timing
 * (poke_interval, exponential_backoff, max_wait, never past the timeout counted from the first try's start),
 * and the sensor poller moves the task instance back to `scheduled` when it is due. Past the timeout the
 * try fails without retry (Airflow's AirflowSensorTimeout) or is skipped with soft_fail.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  afterCheck,
  isAgentSensor,
  rescheduleProgress,
  sensorTiming,
  taskOfSpec,
  waitingNote,
  type TaskInstanceRecord,
  type TaskSpec,
  type TaskState,
} from "../domain";
import type { AgentRpcStore } from "../store";

/** Log lines one check of a sensor in mode reschedule may write before the next check's would overlap them. */
const LOG_SEQS_PER_CHECK = 1_000_000;

/** Where a launch's log lines start: after the earlier checks' of a sensor in mode reschedule, else at 0. */
export async function logSeqStart(store: Pick<AgentRpcStore, "getSensorProgress">, task: TaskSpec, tiId: number): Promise<bigint> {
  if (task.operator !== "sensor" || task.mode !== "reschedule") return 0n;
  return BigInt(((await store.getSensorProgress(tiId))?.checks ?? 0) * LOG_SEQS_PER_CHECK);
}

export type RescheduleStore = Pick<
  AgentRpcStore,
  "getDagRunById" | "getDagVersion" | "getTaskInstanceById" | "applyTransitions" | "getSensorProgress" | "recordReschedule"
>;

/** Ends a running try as its check's "not yet" says; returns the state the task instance is in then. */
export async function rescheduleTry(store: RescheduleStore, ti: TaskInstanceRecord, now: Date): Promise<TaskState> {
  const run = await store.getDagRunById(ti.dag_run_id);
  const spec = run ? await store.getDagVersion(run.version_id) : null;
  const task = spec ? taskOfSpec(spec, ti.task_id) : undefined;
  if (!task?.sensor || !isAgentSensor(task.sensor) || task.mode !== "reschedule")
    throw new ConnectError(
      `ReportState up_for_reschedule is only for a bash or ts sensor in mode reschedule; task "${ti.task_id}" is not one`,
      Code.InvalidArgument,
    );
  const timing = sensorTiming(task);
  const progress = rescheduleProgress((await store.getSensorProgress(ti.id)) ?? { started_at: null, checks: 0 }, ti.start_date ?? now);
  const out = afterCheck(timing, { ...progress, result: { done: false } }, now);
  const base = { id: ti.id, from: ["running" as TaskState], try_number: ti.try_number };
  let applied: boolean | undefined;
  if (out.outcome === "wait") {
    const recorded = await store.recordReschedule({
      id: ti.id,
      try_number: ti.try_number,
      started_at: progress.startedAt,
      checks: progress.checks,
      next_check_at: out.nextCheckAt,
    });
    if (recorded)
      [applied] = await store.applyTransitions(
        [
          {
            ...base,
            to: "up_for_reschedule",
            patch: { end_date: now, note: waitingNote(timing, task.sensor, out.nextCheckAt, progress.startedAt) },
          },
        ],
        now,
      );
  } else if (out.outcome !== "success")
    [applied] = await store.applyTransitions(
      [
        {
          ...base,
          to: out.outcome,
          patch: { end_date: now, note: out.note, ...(out.final ? { max_tries: ti.try_number - 1 } : {}) },
        },
      ],
      now,
    );
  if (applied) return out.outcome === "wait" ? "up_for_reschedule" : (out.outcome as TaskState);
  return (await store.getTaskInstanceById(ti.id))?.state ?? ti.state;
}
