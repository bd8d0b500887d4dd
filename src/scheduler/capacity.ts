/**
 * Which scheduled task instances may be queued now: priority order, then global parallelism, each DAG's
 * max_active_tasks and pool slots. Pure: the caller passes current counts.
 */
import type { WaitReason, TaskInstanceRecord } from "../domain";

export interface DispatchCandidate {
  ti: TaskInstanceRecord;
  /** The run's queued_at: among equal priorities, older runs go first. */
  runQueuedAt: Date;
  /** The DAG's max_active_tasks (from its spec). */
  maxActiveTasks: number;
}

export interface CapacityLimits {
  /** Most task instances queued or running at once, across all DAGs. */
  parallelism: number;
  /** Task instances already queued or running, across all DAGs. */
  running: number;
  /** Task instances already queued or running, per dag_id. */
  runningByDag: Map<string, number>;
  /** Open slots per pool; when given, a pool missing from it does not exist and its tasks wait. */
  poolOpenSlots?: Map<string, number>;
  /** Total slots per pool, only to make waiting reasons say "0 of 128 open". */
  poolTotalSlots?: Map<string, number>;
}

export interface DispatchSelection<C extends DispatchCandidate> {
  dispatch: C[];
  waiting: { candidate: C; reason: WaitReason }[];
}

/** Priority weight desc, run queued_at asc, then dag_id, run_id, task_id: a total, stable order. */
export function compareCandidates(a: DispatchCandidate, b: DispatchCandidate): number {
  return (
    b.ti.priority_weight - a.ti.priority_weight ||
    a.runQueuedAt.getTime() - b.runQueuedAt.getTime() ||
    cmp(a.ti.dag_id, b.ti.dag_id) ||
    cmp(a.ti.run_id, b.ti.run_id) ||
    cmp(a.ti.task_id, b.ti.task_id)
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Splits candidates into those to queue now (in dispatch order) and those that must wait, each with a
 * reason a user can act on. A candidate that does not fit (its DAG is full, its pool lacks slots) does not
 * block lower-priority ones that do fit; only global parallelism stops everything.
 *
 * @example selectDispatchable(cands, { parallelism: 32, running: 0, runningByDag: new Map() }).dispatch
 */
export function selectDispatchable<C extends DispatchCandidate>(candidates: readonly C[], limits: CapacityLimits): DispatchSelection<C> {
  const dispatch: C[] = [];
  const waiting: { candidate: C; reason: WaitReason }[] = [];
  let running = limits.running;
  const byDag = new Map(limits.runningByDag);
  const poolOpen = limits.poolOpenSlots ? new Map(limits.poolOpenSlots) : null;

  for (const c of [...candidates].sort(compareCandidates)) {
    const { dag_id, pool } = c.ti;
    const slots = Math.max(1, c.ti.pool_slots);
    const dagActive = byDag.get(dag_id) ?? 0;
    let reason: WaitReason | null = null;
    if (running >= limits.parallelism) reason = { kind: "parallelism", parallelism: limits.parallelism, running };
    else if (dagActive >= c.maxActiveTasks) reason = { kind: "max_active_tasks", dag_id, max_active_tasks: c.maxActiveTasks };
    else if (poolOpen) reason = poolProblem(pool, slots, poolOpen.get(pool), limits.poolTotalSlots?.get(pool));
    if (reason) {
      waiting.push({ candidate: c, reason });
      continue;
    }
    dispatch.push(c);
    running++;
    byDag.set(dag_id, dagActive + 1);
    if (poolOpen) poolOpen.set(pool, poolOpen.get(pool)! - slots);
  }
  return { dispatch, waiting };
}

function poolProblem(pool: string, needed: number, open: number | undefined, total: number | undefined): WaitReason | null {
  if (open === undefined) return { kind: "pool_missing", pool };
  if (open >= needed) return null;
  if (total !== undefined && needed > total) return { kind: "pool_too_small", pool, needed, total };
  // Open can be negative when a pool shrank below its occupied slots; a user is shown 0.
  return { kind: "pool_full", pool, needed, open: Math.max(0, open), ...(total !== undefined ? { total } : {}) };
}
