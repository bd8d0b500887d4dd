/**
 * Which active runs the loop may plan this tick (pure). Airflow's rules: runs of a paused DAG are not
 * scheduled at all (their running tasks finish; nothing new starts); a queued run does not start before its
 * run_after (when its trigger gave one: `wakeUps` says when to look again), and starts only while its DAG has
 * fewer than max_active_runs running runs, oldest first; a backfill's runs count against the backfill's own
 * max_active_runs instead (not the DAG's), and a paused backfill starts none.
 *
 * @example const { plan, held, wakeUps } = selectRunsToPlan(await store.loadRunGates(ids), now);
 */
import { teamKey, type DagRef, type RunGates } from "../domain";

export interface HeldRun {
  id: number;
  team: string;
  dag_id: string;
  /** Why it waits, for logs. */
  reason: string;
}

export function selectRunsToPlan(gates: RunGates, now: Date): { plan: number[]; held: HeldRun[]; wakeUps: { runId: number; at: Date }[] } {
  const plan: number[] = [];
  const held: HeldRun[] = [];
  const wakeUps: { runId: number; at: Date }[] = [];
  /** By teamKey: two teams may both have DAG "etl", each with its own max_active_runs. */
  const startedByDag = new Map<string, number>();
  const startedByBackfill = new Map<number, number>();
  for (const run of [...gates.runs].sort((a, b) => a.id - b.id)) {
    const dagKey = teamKey(run.team, run.dag_id);
    const dag = gates.dags.get(dagKey);
    const hold = (reason: string) => held.push({ id: run.id, team: run.team, dag_id: run.dag_id, reason });
    if (dag?.is_paused) {
      hold(pausedReason(run.dag_id));
      continue;
    }
    if (run.state !== "queued" || !dag) {
      plan.push(run.id);
      continue;
    }
    if (run.run_after && run.run_after > now) {
      hold(`run_after ${run.run_after.toISOString()} is still to come`);
      wakeUps.push({ runId: run.id, at: run.run_after });
      continue;
    }
    const backfill = run.backfill_id == null ? undefined : gates.backfills.get(run.backfill_id);
    if (backfill) {
      const started = startedByBackfill.get(run.backfill_id!) ?? 0;
      if (backfill.is_paused) hold(`backfill ${run.backfill_id} is paused`);
      else if (backfill.running + started >= backfill.max_active_runs)
        hold(`backfill ${run.backfill_id} has max_active_runs=${backfill.max_active_runs} runs running`);
      else {
        startedByBackfill.set(run.backfill_id!, started + 1);
        plan.push(run.id);
      }
      continue;
    }
    const started = startedByDag.get(dagKey) ?? 0;
    if (dag.running + started >= dag.max_active_runs) hold(`DAG ${run.dag_id} has max_active_runs=${dag.max_active_runs} runs running`);
    else {
      startedByDag.set(dagKey, started + 1);
      plan.push(run.id);
    }
  }
  return { plan, held, wakeUps };
}

const pausedReason = (dagId: string) => `DAG ${dagId} is paused`;

/**
 * Of `running` runs but those in `except` (runs whose tasks are already scheduled), those the gates' DAGs hold: a
 * running run is held only by its DAG's pause (max_active_runs and backfill limits decide which queued runs start),
 * so gating the runs of tasks waiting for capacity needs their DAGs' gates, not a read of each run. A DAG missing
 * from `dags` holds none.
 */
export function heldRunning(running: ReadonlyMap<number, DagRef>, dags: RunGates["dags"], except: ReadonlySet<number>): HeldRun[] {
  const held: HeldRun[] = [];
  let anyPaused = false;
  for (const d of dags.values()) anyPaused ||= d.is_paused;
  if (!anyPaused) return held;
  for (const [id, run] of running)
    if (!except.has(id) && dags.get(teamKey(run.team, run.dag_id))?.is_paused)
      held.push({ id, team: run.team, dag_id: run.dag_id, reason: pausedReason(run.dag_id) });
  return held;
}

/** The ids of `runs` not in `except`. */
export function* idsBesides(runs: ReadonlyMap<number, unknown>, except: ReadonlySet<number>): Generator<number> {
  for (const id of runs.keys()) if (!except.has(id)) yield id;
}
