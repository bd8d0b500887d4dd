/**
 * planRun once per kind of run in a tick, copied to the runs that stand alike. The first sweep after a start
 * (or a new leader) plans every active run, typically thousands of runs of a few DAG versions at the same
 * point (10,000 queued runs whose task instances are all none), in a process whose JIT has not warmed up:
 * planning them one by one took 200-400 ms there against ~40 warm (scripts/bench tick). Two runs of one DAG
 * version whose run state and task instances (task, map index, state, try, max tries, wait reason, start
 * date, in id order) are equal get the same plan but for the task instance ids, so the plan is made once
 * and copied with the other run's ids. Runs whose plan reads anything else are planned on their own:
 * depends_on_past blocks, a changed-task hint, a kind whose plan wakes later (a retry: its time depends on
 * the try's end), writes notes or expands mapped tasks.
 */
import type { DagRunState, DagSpec, TaskInstanceRecord, TaskTransition } from "../domain";
import { planRun, type PlanInput, type RunPlan } from "./planner";

/** A plan to copy: the run it was made for, and each transition with the position of its task instance. */
type Memo = {
  state: DagRunState;
  tis: readonly TaskInstanceRecord[];
  transitions: { at: number; t: TaskTransition }[];
  run: RunPlan["run"];
};

/** Kinds of run remembered per DAG version, most recent first (a sweep after a restart meets runs at several points). */
const KINDS_PER_VERSION = 8;
/** Larger runs are planned on their own: they are rarely many alike, and comparing them costs more. */
const MAX_TASK_INSTANCES = 256;

export class RunPlanMemo {
  private readonly bySpec = new Map<DagSpec, Memo[]>();

  constructor(private readonly now: Date) {}

  /** planRun(input, now), or a copy of the plan of an earlier run that stands alike. */
  plan(input: PlanInput): RunPlan {
    if (input.blockedByPast !== undefined || input.changedTasks !== undefined || input.tis.length > MAX_TASK_INSTANCES)
      return planRun(input, this.now);
    let memos = this.bySpec.get(input.spec);
    if (!memos) this.bySpec.set(input.spec, (memos = []));
    for (const m of memos) if (standsAlike(m, input)) return copyPlan(m, input.tis);
    const plan = planRun(input, this.now);
    const memo = remember(input, plan);
    if (memo && memos.unshift(memo) > KINDS_PER_VERSION) memos.pop();
    return plan;
  }
}

/** Whether planRun reads the same of `input` as of the memo's run (its spec is the same object). */
function standsAlike(m: Memo, input: PlanInput): boolean {
  const { tis } = input;
  if (m.state !== input.run.state || m.tis.length !== tis.length) return false;
  for (let i = 0; i < tis.length; i++) {
    const a = m.tis[i]!;
    const b = tis[i]!;
    if (
      a.state !== b.state ||
      a.task_id !== b.task_id ||
      a.map_index !== b.map_index ||
      a.try_number !== b.try_number ||
      a.max_tries !== b.max_tries ||
      a.wait_reason !== b.wait_reason ||
      (a.start_date?.getTime() ?? null) !== (b.start_date?.getTime() ?? null)
    )
      return false;
  }
  return true;
}

/** The plan as a memo, or null when it must not be copied (it reads times, past runs or mapped upstreams' XComs). */
function remember(input: PlanInput, plan: RunPlan): Memo | null {
  // A retry (failed with tries left, up_for_retry) always sets nextWakeAt: its plan depends on times.
  if (plan.nextWakeAt !== null || plan.notes || plan.expansions) return null;
  const at = new Map(input.tis.map((ti, i) => [ti.id, i]));
  return { state: input.run.state, tis: input.tis, transitions: plan.transitions.map((t) => ({ at: at.get(t.id)!, t })), run: plan.run };
}

/** The memo's plan for a run that stands alike: its own task instance ids, nothing shared with other plans. */
function copyPlan(memo: Memo, tis: readonly TaskInstanceRecord[]): RunPlan {
  return {
    transitions: memo.transitions.map(({ at, t }) => ({
      ...t,
      id: tis[at]!.id,
      from: [...t.from],
      ...(t.patch ? { patch: { ...t.patch } } : {}),
    })),
    run: memo.run ? { ...memo.run, from: [...memo.run.from] } : null,
    nextWakeAt: null,
  };
}
