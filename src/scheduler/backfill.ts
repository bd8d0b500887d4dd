/**
 * Planning a backfill (pure): Airflow 3's checks on a backfill request and the runs it asks for, one per
 * schedule slot whose logical_date lies in [from_date, to_date] and which has ended by `now`, and which slots
 * that already have a run it skips (`backfillSkips`, from the reprocess behaviour). The store then creates the
 * runs in one transaction, looking each slot's latest run up in that table (Store.createBackfill); the loop
 * starts them max_active_runs at a time.
 *
 * @example
 * const input = planBackfill(dag, { dag_id, from_date, to_date, run_backwards: false, dag_run_conf: null,
 *   reprocess_behavior: "none", max_active_runs: 10 }, now);
 * const { backfill } = await store.createBackfill(input);
 */
import {
  backfillSkipReason,
  ValidationError,
  type BackfillSkips,
  type DagRecord,
  type NewBackfill,
  type ReprocessBehavior,
} from "../domain";
import type { BackfillsApiStore } from "../store";
import { slotsBetween, type Slot } from "./cron";
import { buildDagRun, defaultRunId } from "./trigger";

/** What a user asks for: the stored backfill minus what planning adds (its team, its runs and the time). */
export type BackfillRequest = Omit<NewBackfill, "team" | "now" | "runs" | "skip_existing">;

/** Most runs one backfill may create: beyond this the request is refused (split the range). */
export const MAX_BACKFILL_RUNS = 10_000;

/** The slots a backfill covers, in the order its runs start. Throws ValidationError for unusable requests. */
export function backfillSlots(dag: DagRecord, req: BackfillRequest, now: Date): Slot[] {
  const spec = dag.spec;
  const from = req.from_date.toISOString();
  const to = req.to_date.toISOString();
  if (req.from_date > req.to_date)
    throw new ValidationError(`from_date (${from}) must not be after to_date (${to}); swap them`, [
      { path: "from_date", message: `after to_date ${to}` },
    ]);
  if (spec.schedule === null || spec.schedule === "@once")
    throw new ValidationError(
      `DAG ${dag.dag_id} has no periodic schedule (schedule: ${JSON.stringify(spec.schedule)}); backfills need a cron string or a preset such as @daily`,
    );
  if (req.from_date >= now && req.to_date >= now)
    throw new ValidationError(
      `Backfill cannot be executed for future dates: from_date ${from} and to_date ${to} are after now (${now.toISOString()})`,
    );
  if (spec.tasks.some((t) => t.depends_on_past)) {
    if (req.run_backwards)
      throw new ValidationError(
        `DAG ${dag.dag_id} has tasks with depends_on_past=true, so it cannot be backfilled backwards; set run_backwards=false`,
      );
    if (req.reprocess_behavior === "none")
      throw new ValidationError(
        `DAG ${dag.dag_id} has tasks with depends_on_past=true; set reprocess_behavior to "failed" or "completed" so earlier runs are not left out`,
      );
  }
  const slots = slotsBetween(spec.schedule, spec.timezone, req.from_date, req.to_date, now, MAX_BACKFILL_RUNS + 1);
  if (slots.length === 0)
    throw new ValidationError(
      `no slot of DAG ${dag.dag_id}'s schedule "${spec.schedule}" (${spec.timezone}) starts between ${from} and ${to} and has ended by now; widen the range`,
    );
  if (slots.length > MAX_BACKFILL_RUNS)
    throw new ValidationError(
      `the range ${from} .. ${to} holds more than ${MAX_BACKFILL_RUNS} slots of "${spec.schedule}"; split it into smaller backfills`,
    );
  return req.run_backwards ? slots.reverse() : slots;
}

/**
 * Which existing runs keep a backfill from creating their slot, with Airflow's reasons: a queued or running
 * run always ("in flight"); a finished one unless the behaviour asks to reprocess it ("already exists").
 */
export function backfillSkips(behavior: ReprocessBehavior): BackfillSkips {
  const inFlight: BackfillSkips = { queued: "in flight", running: "in flight" };
  if (behavior === "completed") return inFlight;
  if (behavior === "failed") return { ...inFlight, success: "already exists" };
  return { ...inFlight, success: "already exists", failed: "already exists" };
}

/**
 * The NewBackfill to hand to Store.createBackfill: the request plus one run per slot and what to skip, all in
 * the DAG's team.
 */
export function planBackfill(dag: DagRecord, req: BackfillRequest, now: Date): NewBackfill {
  const runs = backfillSlots(dag, req, now).map((slot) => {
    const run = buildDagRun(
      dag,
      {
        run_id: defaultRunId("backfill", slot.logical_date),
        run_type: "backfill",
        logical_date: slot.logical_date,
        data_interval_start: slot.data_interval_start,
        data_interval_end: slot.data_interval_end,
        conf: req.dag_run_conf ?? {},
      },
      now,
    );
    // As a scheduled run's: when its slot was due (the interval's end, at or before now: slots have ended).
    run.run_after = slot.run_after;
    return run;
  });
  return { ...req, team: dag.team, now, runs, skip_existing: backfillSkips(req.reprocess_behavior) };
}

/**
 * The logical dates a backfill planned as `plan` would create, in its order, without creating anything (Airflow's
 * dry run): decided as Store.createBackfill decides, on the same store read (latestRunStates) and the same rule
 * (backfillSkipReason), so the dry run lists exactly what the backfill then creates.
 *
 * @example await backfillDryRun(store, planBackfill(dag, req, now)) // [2026-01-03T00:00:00Z, …]
 */
export async function backfillDryRun(store: Pick<BackfillsApiStore, "latestRunStates">, plan: NewBackfill): Promise<Date[]> {
  const dates = plan.runs.map((r) => r.logical_date!);
  const latest = await store.latestRunStates(plan.team, plan.dag_id, dates);
  return dates.filter((d) => backfillSkipReason(plan.skip_existing, latest.get(d.getTime())) === undefined);
}
