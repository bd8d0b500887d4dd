/**
 * Why a task instance waits, as a value: the scheduler decides a WaitReason, the store keeps its kind (the
 * task_instances.wait_reason column, which code reads back) and the note a user sees is rendered from it
 * (task_instances.note, which code never parses).
 */
import type { TaskState } from "./states";

export type WaitReason =
  /** Global parallelism is reached: nothing more is queued until something finishes. */
  | { kind: "parallelism"; parallelism: number; running: number }
  /** The DAG's max_active_tasks is reached. */
  | { kind: "max_active_tasks"; dag_id: string; max_active_tasks: number }
  /** The task's max_active_tis_per_dag is reached (its instances across all runs of the DAG, mapped ones included). */
  | { kind: "max_active_tis_per_dag"; dag_id: string; task_id: string; max_active_tis_per_dag: number }
  /** The task's pool does not exist. */
  | { kind: "pool_missing"; pool: string }
  /** The task needs more slots than its pool has in all; it can never start until one of them changes. */
  | { kind: "pool_too_small"; pool: string; needed: number; total: number }
  /** The pool has fewer open slots than the task needs; `total` is absent when unknown. */
  | { kind: "pool_full"; pool: string; needed: number; open: number; total?: number }
  /** depends_on_past: the same task in the previous run has not succeeded or been skipped. */
  | { kind: "depends_on_past"; task_id: string; previous_run_id: string; previous_state: TaskState }
  /**
   * The task's team reached one of its quotas (the teams table): `limit` is the quota, `used` what the team
   * holds now (task instances, pool slots or inline requests), `needed` the pool slots this task asks for.
   */
  | { kind: "team_quota"; team: string; quota: TeamQuota; limit: number; used: number; needed?: number };

/** The quotas a team can have (columns of the teams table). */
export type TeamQuota = "max_running_tasks" | "max_pool_slots" | "max_inline_requests";

export type WaitReasonKind = WaitReason["kind"];

/**
 * The note a user sees for a reason: what holds the task and, where there is one, what to do about it.
 *
 * @example renderWaitReason({ kind: "pool_full", pool: "gpu", needed: 1, open: 0, total: 2 }) // "waiting for a slot in pool gpu (0 of 2 open)"
 */
export function renderWaitReason(reason: WaitReason): string {
  switch (reason.kind) {
    case "parallelism":
      return `parallelism (${reason.parallelism}) reached: ${reason.running} task instances queued or running`;
    case "max_active_tasks":
      return `max_active_tasks (${reason.max_active_tasks}) reached for DAG ${reason.dag_id}`;
    case "max_active_tis_per_dag":
      return `max_active_tis_per_dag (${reason.max_active_tis_per_dag}) reached for task ${reason.task_id} of DAG ${reason.dag_id}`;
    case "pool_missing":
      return `pool ${reason.pool} does not exist; create it with POST /api/v2/pools or set the task's pool to an existing one`;
    case "pool_too_small":
      return `task needs ${reason.needed} slots but pool ${reason.pool} has only ${reason.total}; lower pool_slots or enlarge the pool`;
    case "pool_full": {
      const of = reason.total !== undefined ? `${reason.open} of ${reason.total} open` : `${reason.open} open`;
      return reason.needed === 1
        ? `waiting for a slot in pool ${reason.pool} (${of})`
        : `waiting for ${reason.needed} slots in pool ${reason.pool} (${of})`;
    }
    case "depends_on_past":
      return (
        `depends_on_past: waiting for ${reason.task_id} in the previous run ${reason.previous_run_id} (${reason.previous_state}) to succeed or be skipped; ` +
        `clear or mark that task instance to let this run go on`
      );
    case "team_quota":
      return `team ${reason.team} reached its quota ${reason.quota}=${reason.limit} (${quotaUsage(reason)}); it waits until the team's tasks finish or an admin raises the quota`;
  }
}

function quotaUsage(reason: Extract<WaitReason, { kind: "team_quota" }>): string {
  switch (reason.quota) {
    case "max_running_tasks":
      return `${reason.used} queued or running`;
    case "max_pool_slots":
      return `${reason.used} pool slots held by queued or running tasks${reason.needed !== undefined && reason.needed > 1 ? `, this task needs ${reason.needed}` : ""}`;
    case "max_inline_requests":
      return `${reason.used} inline requests in flight`;
  }
}
