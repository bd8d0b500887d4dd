/**
 * What one tick decides for the runs it loaded, before anything is written: run timeouts, then planRun for
 * each run (errors contained per run), gathered into one batch of transitions, run state changes and notes.
 * Pure: the loop loads the inputs, applies the result and arms the wake-ups.
 */
import type { DagRunState, DagSpec, DagRunRecord, RunSnapshot, TaskNoteUpdate, TaskTransition } from "../domain";
import type { PlanInput } from "./planner";
import { RunPlanMemo } from "./plan-memo";
import { planRunTimeout, runTimeoutAt } from "./run-timeout";
import { endNote } from "./clear";
import type { ExpansionRequest } from "./expansion-step";

export interface TickPlanInput {
  snapshots: readonly RunSnapshot[];
  /** Each run's pinned DAG version by version id; an Error when it could not be loaded. */
  specs: ReadonlyMap<number, DagSpec | Error>;
  /** By run id: depends_on_past tasks that must wait (loadPastBlocks). */
  pastBlocks: ReadonlyMap<number, NonNullable<PlanInput["blockedByPast"]>>;
  /** Asked before each run: true when the tick's budget is spent (the rest go to the next tick). */
  outOfTime: () => boolean;
  /** By run id: the tasks that changed since the run's previous plan (PlanInput.changedTasks); absent: plan it all. */
  changedTasks?: ReadonlyMap<number, ReadonlySet<string>>;
}

export type RunChange = { run: DagRunRecord; from: DagRunState[]; to: DagRunState; note?: string };
export type PlannedRun = { snap: RunSnapshot; spec: DagSpec };

export interface TickPlan {
  transitions: TaskTransition[];
  /** The run id of each transition, by index. */
  transitionRun: number[];
  runChanges: RunChange[];
  /** Runs planned without a timeout: their scheduled task instances compete for dispatch. */
  planned: PlannedRun[];
  notes: TaskNoteUpdate[];
  /** Mapped tasks ready to expand (expansion-step.ts). */
  expansions: ExpansionRequest[];
  /** When runs want planning again without an outside event (a retry delay, a run timeout). */
  wakeUps: { runId: number; at: Date }[];
  /** Runs left for the next tick because the budget was spent. */
  deferred: number[];
  /** Runs whose planning threw: logged, other runs go on. */
  failed: { run: DagRunRecord; error: Error }[];
}

export function planTick(input: TickPlanInput, now: Date): TickPlan {
  const plan: TickPlan = {
    transitions: [],
    transitionRun: [],
    runChanges: [],
    planned: [],
    notes: [],
    expansions: [],
    wakeUps: [],
    deferred: [],
    failed: [],
  };
  // Runs that stand alike are planned once (a first sweep's thousands of queued runs): plan-memo.ts.
  const memo = new RunPlanMemo(now);
  for (const snap of input.snapshots) {
    if (input.outOfTime()) {
      plan.deferred.push(snap.run.id);
      continue;
    }
    try {
      const spec = input.specs.get(snap.run.version_id);
      if (spec === undefined) throw new Error(`DAG version ${snap.run.version_id} is missing from the store`);
      if (spec instanceof Error) throw spec;
      const timeout = planRunTimeout(snap.run, snap.tis, spec, now);
      if (timeout) {
        for (const t of timeout.transitions) plan.transitions.push(t), plan.transitionRun.push(snap.run.id);
        plan.runChanges.push({ run: snap.run, from: ["running"], to: "failed", ...endNote(snap.run, timeout.note) });
        continue;
      }
      const timeoutAt = runTimeoutAt(snap.run, spec);
      if (timeoutAt) plan.wakeUps.push({ runId: snap.run.id, at: timeoutAt });
      const runPlan = memo.plan({
        run: snap.run,
        tis: snap.tis,
        spec,
        blockedByPast: input.pastBlocks.get(snap.run.id),
        changedTasks: input.changedTasks?.get(snap.run.id),
      });
      if (runPlan.notes) plan.notes.push(...runPlan.notes);
      for (const ti of runPlan.expansions ?? []) plan.expansions.push({ run: snap.run, spec, ti });
      for (const t of runPlan.transitions) plan.transitions.push(t), plan.transitionRun.push(snap.run.id);
      if (runPlan.run) {
        const { note, ...change } = runPlan.run;
        plan.runChanges.push({ run: snap.run, ...change, ...endNote(snap.run, note) });
      }
      if (runPlan.nextWakeAt) plan.wakeUps.push({ runId: snap.run.id, at: runPlan.nextWakeAt });
      plan.planned.push({ snap, spec });
    } catch (e) {
      plan.failed.push({ run: snap.run, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }
  return plan;
}
