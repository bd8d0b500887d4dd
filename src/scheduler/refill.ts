/**
 * Refill: an inline slot freed by a task that ended goes straight to the next waiting inline task, without
 * waiting for a tick (on Postgres a tick is 8–15 ms of round trips and planning, and a fan-out's freed slots
 * sat idle for it). Pure: the dispatch step keeps the queue and does the I/O.
 *
 * A refill swaps one running task for one waiting task, so every count the capacity rules read stays what
 * the latest tick saw. That holds because the next task may take the freed slot only when:
 * - it is the head of the latest tick's refill queue, past the heads the slot cannot help (cannotTakeFreedSlot):
 *   the fair order across teams and, within a team, priority weight, run queued_at, … (capacity.ts) of the tasks
 *   the tick left waiting, whatever each waited for (selectDispatchable's `next`: parallelism, a full pool, its
 *   DAG's max_active_tasks, its team's quota; the rules below free exactly what the head lacked, so it fits, as a
 *   tick reading the counts would find); a candidate scheduled since then waits for the next tick, as it would have;
 * - it is still waiting (scheduled, not launched or withdrawn since) and runs inline;
 * - its run was not held by the latest tick's run limits (a pause, max_active_runs; pausing wakes a tick);
 * - it is of the same team, DAG, pool and pool slots as the task that ended: the team's quotas (tasks, pool
 *   slots, inline requests), the DAG's max_active_tasks and the pool's open slots do not move;
 * - it sets no max_active_tis_per_dag, or it is an instance of the same task (that count does not move);
 * - at the latest tick's counts its DAG, pool, team and task were within their limits (withinLimits): a pool
 *   shrunk or a quota lowered stops the swaps until they drain.
 * Global parallelism does not move either. Another team's head waiting for parallelism is passed over too when a
 * tick would give the freed slot to the freed slot's own team (freedTeamGoesFirst: its team holds less than, or as
 * much as and comes before, every other team waiting, the freed slot not counted; what a team holds is counted by
 * the dispatch step as its inline tasks start and end, the tick's counts guessing at refills in flight), and never
 * while a slot refused since the latest tick waits for the next one. A head that could take a slot of its own team,
 * DAG, pool, pool slots and task when one frees (refillableElsewhere) stays at the head when it is refused another's:
 * that slot goes to a tick (the end wakes its run), which gives it out in fair order, and the queue serves the ends
 * of the head's kind meanwhile. A swap moves no count, so the tick finds the refused slot free as if it alone had
 * ended, and gives it to whom it would have given it. A head that fails any other rule (not inline, its run held, no
 * longer waiting) ends refilling until the next tick builds a queue again. A tick that reads the counts between the
 * end and the refill's start sees one slot free: the dispatch step counts refills not yet visible to its read as
 * running (withRefills); should that keep a refused slot from the tick it woke, the next end wakes another.
 */
import { evaluateTriggerRule, teamKey, type DagSpec, type TaskInstanceRecord, type TriggerRule, type WaitReason } from "../domain";
import type { CapacityLimits, DispatchCandidate } from "./capacity";
import { holdIn, poolSlotsOf, taskKey, turnBefore, type HeldCounts } from "./capacity";

/** The task instance whose slot is free (its end applied). */
export type FreedSlot = Pick<TaskInstanceRecord, "team" | "dag_id" | "task_id" | "pool" | "pool_slots">;

/** Whether `head` may take the slot `freed` left, by the rules above (`runHeld`: the latest tick held its run). */
export function mayRefill(freed: FreedSlot, head: DispatchCandidate, runHeld: boolean): boolean {
  const ti = head.ti;
  return (
    head.inline === true &&
    ti.state === "scheduled" &&
    !runHeld &&
    ti.team === freed.team &&
    ti.dag_id === freed.dag_id &&
    ti.pool === freed.pool &&
    poolSlotsOf(ti) === poolSlotsOf(freed) &&
    (head.maxActiveTisPerDag === undefined || ti.task_id === freed.task_id)
  );
}

/**
 * Whether a tick would give the slot a task of `team` just freed to `team`'s own next waiting task rather than to another
 * team's, every waiting task waiting for parallelism: in fair order (capacity.ts) a team's next turn is what it holds,
 * the lowest first, ties by team name. `held`: what each team holds now, the freed slot still counted; `waiting`: the
 * teams with tasks waiting. Then a refill may pass over other teams' heads to `team`'s next task: a swap keeps every
 * team's count, and gives the slot to whom a tick would have given it.
 */
export function freedTeamGoesFirst(team: string, held: (team: string) => number, waiting: Iterable<string>): boolean {
  const own = { team, turn: held(team) - 1 };
  for (const other of waiting) if (other !== team && !turnBefore(own, { team: other, turn: held(other) })) return false;
  return true;
}

/**
 * Whether `head`, refused a slot (mayRefill), would take a slot of its own team, DAG, pool, pool slots and task (`runHeld`:
 * the latest tick held its run): it runs inline and still waits, in a run not held.
 */
export function refillableElsewhere(head: DispatchCandidate, runHeld: boolean): boolean {
  return head.inline === true && head.ti.state === "scheduled" && !runHeld;
}

/**
 * Whether the slot `freed` leaves cannot make `head` fit, `head` having waited for `reason` at the latest tick's
 * counts (which refills keep): its own pool, DAG, team or task is another than the freed slot's and still at its
 * limit, or it can never fit. A tick reading the counts then would not give it the slot either, so a refill may pass
 * it over for a later task of the queue (it stays queued, first for a slot it can take). Parallelism's reason says
 * nothing of the task's own limits (the selection stops asking at parallelism): such a head is never passed over.
 */
export function cannotTakeFreedSlot(
  reason: WaitReason,
  head: Pick<TaskInstanceRecord, "team">,
  freed: Pick<FreedSlot, "team" | "dag_id" | "task_id" | "pool">,
): boolean {
  const ownTeam = head.team === freed.team;
  switch (reason.kind) {
    case "pool_full":
      return !ownTeam || reason.pool !== freed.pool;
    case "max_active_tasks":
      return !ownTeam || reason.dag_id !== freed.dag_id;
    case "max_active_tis_per_dag":
      return !ownTeam || reason.dag_id !== freed.dag_id || reason.task_id !== freed.task_id;
    case "team_quota":
      return reason.team !== freed.team;
    case "pool_missing":
    case "pool_too_small":
      return true;
    default:
      return false;
  }
}

/**
 * Whether `c`'s DAG, pool, team and task hold no more than their limits at the store's counts (`limits`, without
 * refills counted: those only ever add a guess). A swap keeps these counts as they are, so it is allowed only
 * while they are within their limits: a pool shrunk or a quota lowered since must drain first, and while every
 * slot is taken a tick does not check them (every candidate waits for parallelism).
 */
export function withinLimits(c: DispatchCandidate, limits: CapacityLimits): boolean {
  const { team, dag_id, pool } = c.ti;
  if ((limits.runningByDag.get(teamKey(team, dag_id)) ?? 0) > c.maxActiveTasks) return false;
  if (limits.poolOpenSlots) {
    const open = limits.poolOpenSlots.get(teamKey(team, pool));
    if (open === undefined || open < 0) return false;
  }
  const quotas = limits.teamQuotas?.get(team);
  const used = limits.teamUsage?.get(team);
  if (quotas && used) {
    if (quotas.max_running_tasks !== null && used.tasks > quotas.max_running_tasks) return false;
    if (quotas.max_pool_slots !== null && used.pool_slots > quotas.max_pool_slots) return false;
    if (quotas.max_inline_requests !== null && used.inline > quotas.max_inline_requests) return false;
  }
  const perTask = c.maxActiveTisPerDag;
  return perTask === undefined || (limits.runningByTask?.get(taskKey(c.ti)) ?? 0) <= perTask;
}

/** A refill the store's counts may not show yet: the candidate it started. */
export type Refill = Pick<DispatchCandidate, "ti" | "inline" | "maxActiveTisPerDag">;

/**
 * The capacity limits with `refills` counted as queued or running (conservative: one the read already saw is
 * counted twice, which only leaves a slot for the next tick). Parallelism's count is raised no further than
 * to the limit itself, so that the waiting note ("32 task instances queued or running") does not change on
 * thousands of candidates because of a count that is only a guess.
 */
export function withRefills(limits: CapacityLimits, refills: readonly Refill[]): CapacityLimits {
  if (!refills.length) return limits;
  const held: HeldCounts = {
    byDag: new Map(limits.runningByDag),
    byTask: new Map(limits.runningByTask ?? []),
    usage: new Map(limits.teamUsage ?? []),
    poolOpen: limits.poolOpenSlots ? new Map(limits.poolOpenSlots) : null,
  };
  for (const r of refills) holdIn(held, r);
  const raised = limits.running + refills.length;
  return {
    ...limits,
    running: limits.running >= limits.parallelism ? limits.running : Math.min(raised, limits.parallelism),
    runningByDag: held.byDag,
    teamUsage: held.usage,
    ...(held.poolOpen ? { poolOpenSlots: held.poolOpen } : {}),
    runningByTask: held.byTask,
  };
}

/**
 * Trigger rules under which a task stays waiting while any of its upstreams is unfinished, whatever the others
 * do on success: a success alone never schedules, skips or fails it before every upstream is done. (one_success,
 * one_done, all_failed and all_skipped decide on a single success; always does not wait at all.) refill.test.ts
 * checks this list against evaluateTriggerRule (domain/trigger-rules.ts), rule by rule.
 */
const WAITS_FOR_EVERY_UPSTREAM: ReadonlySet<TriggerRule> = new Set<TriggerRule>([
  "all_success",
  "all_done",
  "all_done_setup_success",
  "all_done_min_one_success",
  "one_failed",
  "none_failed",
  "none_failed_min_one_success",
  "none_skipped",
]);

/**
 * A run's unmapped task instances by task id, built once per list (a snapshot's, which every hand-over of the
 * tick that read it shares): a chain's hop looked its next task up with a scan, O(n²) over a long chain.
 */
const unmappedByList = new WeakMap<readonly TaskInstanceRecord[], Map<string, TaskInstanceRecord>>();
function unmappedOf(tis: readonly TaskInstanceRecord[]): Map<string, TaskInstanceRecord> {
  let index = unmappedByList.get(tis);
  if (!index) {
    index = new Map();
    for (const t of tis) if (t.map_index === -1) index.set(t.task_id, t);
    unmappedByList.set(tis, index);
  }
  return index;
}

/** Each spec's downstream tasks by task id, built once per spec. */
const downstreamBySpec = new WeakMap<DagSpec, Map<string, DagSpec["tasks"][number][]>>();
function downstreamOf(spec: DagSpec, taskId: string): readonly DagSpec["tasks"][number][] {
  let index = downstreamBySpec.get(spec);
  if (!index) {
    index = new Map();
    for (const t of spec.tasks)
      for (const u of t.upstream) {
        const list = index.get(u);
        if (list) list.push(t);
        else index.set(u, [t]);
      }
    downstreamBySpec.set(spec, index);
  }
  return index.get(taskId) ?? [];
}

/**
 * Whether a try of `endedTaskId` that succeeded needs no planning of its run while `successorTaskId`, an instance
 * of the same run that this end's slot just started, is unfinished: no downstream task can move on that success.
 * True when every task downstream of it but the successor itself (a chain's hand-over) waits for every upstream
 * (WAITS_FOR_EVERY_UPSTREAM) and has the successor's task among its upstreams (a leaf task has none). The run cannot end either (the successor runs),
 * so its tick can wait: the successor's own end wakes the run, or hands the same cover on. A failure, a retry or
 * a task instance in another run always wakes.
 */
export function successNeedsNoPlan(spec: DagSpec, endedTaskId: string, successorTaskId: string): boolean {
  for (const d of downstreamOf(spec, endedTaskId)) {
    if (d.task_id === successorTaskId) continue; // a chain's next task: it runs already
    if (!WAITS_FOR_EVERY_UPSTREAM.has(d.trigger_rule) || !d.upstream.includes(successorTaskId)) return false;
  }
  return true;
}

/**
 * The task instance a chain hands `ended`'s slot to when `ended` succeeds (its start then rides on the end's
 * write instead of waiting for a tick to read, plan and start it; for agent-run tasks, its queueing and launch
 * ride on the end's report: DispatchStep.chainHandOff), or none. It must be the only task downstream
 * of `ended`, with `ended` as its only upstream and a trigger rule that schedules it on that success; it waits
 * unmapped and `none` in `tis` (its run as last read); it runs where the caller hands over (`eligible`: inline,
 * or by an agent; never an empty task, which the planner marks success without a slot), does not depend on its past and
 * sets no max_active_tis_per_dag; and it is of the same team, DAG, pool and pool slots, so that, as for a
 * refill, every count the capacity rules read stays what it was. `ended` must not be a mapped instance (its
 * downstream waits for every instance).
 */
export function chainSuccessor(
  spec: DagSpec,
  tis: readonly TaskInstanceRecord[],
  ended: TaskInstanceRecord,
  eligible: (task: DagSpec["tasks"][number]) => boolean,
): TaskInstanceRecord | undefined {
  if (ended.map_index !== -1) return undefined;
  const down = downstreamOf(spec, ended.task_id);
  const task = down.length === 1 ? down[0] : undefined;
  if (task?.upstream.length !== 1 || task.expand || task.expand_kwargs || task.depends_on_past || task.operator === "empty")
    return undefined;
  if (task.max_active_tis_per_dag !== undefined || !eligible(task) || evaluateTriggerRule(task.trigger_rule, ["success"]) !== "schedule")
    return undefined;
  const ti = unmappedOf(tis).get(task.task_id);
  if (ti?.state !== "none" || ti.team !== ended.team || ti.dag_id !== ended.dag_id || ti.pool !== ended.pool) return undefined;
  return poolSlotsOf(ti) === poolSlotsOf(ended) ? ti : undefined;
}
