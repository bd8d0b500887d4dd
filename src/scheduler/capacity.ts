/**
 * Which scheduled task instances may be queued now: fair order across teams (fairOrder), then global
 * parallelism, each team's quotas, each DAG's max_active_tasks and pool slots. Pure: the caller passes
 * current counts.
 */
import { teamKey, type TeamRecord, type TeamUsage, type WaitReason, type TaskInstanceRecord } from "../domain";
import { MinHeap } from "./min-heap";

export interface DispatchCandidate {
  ti: TaskInstanceRecord;
  /** The run's queued_at: among equal priorities, older runs go first. */
  runQueuedAt: Date;
  /** The DAG's max_active_tasks (from its spec). */
  maxActiveTasks: number;
  /** Runs inline (an http task in the control plane): counts against its team's max_inline_requests. */
  inline?: boolean;
  /** The task's max_active_tis_per_dag, when it sets one. */
  maxActiveTisPerDag?: number;
}

/** The key of a task across the runs of its DAG, for max_active_tis_per_dag counts. */
export const taskKey = (ti: Pick<TaskInstanceRecord, "team" | "dag_id" | "task_id">): string =>
  `${teamKey(ti.team, ti.dag_id)}\u0000${ti.task_id}`;

/** A team's quotas; null is unlimited. */
export type TeamQuotas = Pick<TeamRecord, "max_running_tasks" | "max_pool_slots" | "max_inline_requests">;

export interface CapacityLimits {
  /** Most task instances queued or running at once, across all DAGs. */
  parallelism: number;
  /** Task instances already queued or running, across all DAGs. */
  running: number;
  /** Task instances already queued or running, by teamKey(team, dag_id). */
  runningByDag: Map<string, number>;
  /** Open slots by teamKey(team, pool); when given, a pool missing from it does not exist and its tasks wait. */
  poolOpenSlots?: Map<string, number>;
  /** Total slots by teamKey(team, pool), only to make waiting reasons say "0 of 128 open". */
  poolTotalSlots?: Map<string, number>;
  /** Each team's quotas; a team absent has none. */
  teamQuotas?: ReadonlyMap<string, TeamQuotas>;
  /** What each team holds now (queued and running); a team absent holds nothing. */
  teamUsage?: ReadonlyMap<string, TeamUsage>;
  /** Task instances queued or running by taskKey, for the candidates that set max_active_tis_per_dag. */
  runningByTask?: ReadonlyMap<string, number>;
}

/**
 * Whether two limits hold the same counts (the team quotas compared as objects: DispatchStep keeps its map while
 * a read brings the same quotas, sameQuotas). Candidates that all waited under `a` all wait under `b` when this holds.
 */
export function sameLimits(a: CapacityLimits, b: CapacityLimits): boolean {
  return (
    a.parallelism === b.parallelism &&
    a.running === b.running &&
    a.teamQuotas === b.teamQuotas &&
    sameMap(a.runningByDag, b.runningByDag) &&
    sameMap(a.poolOpenSlots, b.poolOpenSlots) &&
    sameMap(a.poolTotalSlots, b.poolTotalSlots) &&
    sameMap(a.runningByTask, b.runningByTask) &&
    sameUsage(a.teamUsage, b.teamUsage)
  );
}

/** Whether each team holds the same in both (a team absent from both holds nothing in either). */
export function sameUsage(a: CapacityLimits["teamUsage"], b: CapacityLimits["teamUsage"]): boolean {
  return sameMap(a, b, (x, y) => x.tasks === y.tasks && x.pool_slots === y.pool_slots && x.inline === y.inline);
}

/** Whether two teams' quota maps hold the same quotas for the same teams (other fields of a team not compared). */
export function sameQuotas(a: ReadonlyMap<string, TeamQuotas>, b: ReadonlyMap<string, TeamQuotas>): boolean {
  return sameMap(
    a,
    b,
    (x, y) =>
      x.max_running_tasks === y.max_running_tasks &&
      x.max_pool_slots === y.max_pool_slots &&
      x.max_inline_requests === y.max_inline_requests,
  );
}

function sameMap<V>(
  a: ReadonlyMap<string, V> | undefined,
  b: ReadonlyMap<string, V> | undefined,
  same: (x: V, y: V) => boolean = Object.is,
): boolean {
  if (a === b) return true;
  if (!a || !b || a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || !same(v, w)) return false;
  }
  return true;
}

export interface DispatchSelection<C extends DispatchCandidate> {
  dispatch: C[];
  waiting: { candidate: C; reason: WaitReason }[];
  /**
   * With `lookahead`: the candidates left waiting, in fair order, at most `lookahead` of them: the refill queue.
   * A refill (refill.ts) hands its head only a slot freed by a task of its own team, DAG, pool and pool slots,
   * which frees whatever the head waited for (parallelism, a full pool, its DAG's max_active_tasks, its team's
   * quota) and moves no other count: the head, first in fair order, then fits, as a tick would find.
   */
  next: C[];
}

/** Priority weight desc, run queued_at asc, then dag_id, run_id, task_id, map_index: a total, stable order within a team. */
export function compareCandidates(a: DispatchCandidate, b: DispatchCandidate): number {
  const x = a.ti;
  const y = b.ti;
  const byPriority = y.priority_weight - x.priority_weight;
  if (byPriority) return byPriority;
  // Equality first: the candidates of one run share its queued_at (one Date) and DAG and run ids (one string
  // each: snapshot-columns.ts), so a large run's thousands of them are told apart by task id without ordering
  // those equal values for every pair (a 10,000-task run's ordering took twice as long).
  if (a.runQueuedAt !== b.runQueuedAt) {
    const byQueued = a.runQueuedAt.getTime() - b.runQueuedAt.getTime();
    if (byQueued) return byQueued;
  }
  if (x.dag_id !== y.dag_id) return cmp(x.dag_id, y.dag_id);
  if (x.run_id !== y.run_id) return cmp(x.run_id, y.run_id);
  return cmp(x.task_id, y.task_id) || x.map_index - y.map_index;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Candidates interleaved by team, least-loaded first. Each candidate's turn is what its team already holds
 * (queued and running task instances) plus its rank in the team's own order (compareCandidates); turns go
 * ascending, ties by team name. Teams holding the same take turns round-robin; a team holding fewer takes
 * the turns until it catches up. So a team with 10,000 ready tasks takes one slot per round like a team with
 * 10, and the lighter team wins the slots that finished tasks free.
 *
 * @example fairOrder([a1, a2, a3, b1], new Map([["a", { tasks: 5, … }]])) // [b1, a1, a2, a3]
 */
export function fairOrder<C extends DispatchCandidate>(candidates: readonly C[], usage?: ReadonlyMap<string, TeamUsage>): C[] {
  return [...fairTurns(candidates, usage)];
}

/** Whether team `a`'s turn comes before team `b`'s in fair order: the lower turn, ties by team name. */
export function turnBefore(a: { team: string; turn: number }, b: { team: string; turn: number }): boolean {
  return a.turn < b.turn || (a.turn === b.turn && cmp(a.team, b.team) < 0);
}

/**
 * fairOrder one candidate at a time, each team's own order kept in a heap: a tick that fills parallelism with
 * the first 32 of 10,000 waiting candidates orders those 32 (O(n) to build, O(log n) each), not all 10,000.
 */
function* fairTurns<C extends DispatchCandidate>(candidates: readonly C[], usage?: ReadonlyMap<string, TeamUsage>): Generator<C> {
  const byTeam = new Map<string, C[]>();
  for (const c of candidates) {
    const list = byTeam.get(c.ti.team);
    if (list) list.push(c);
    else byTeam.set(c.ti.team, [c]);
  }
  // A team's turn for its next candidate: what it holds plus how many it has had; the lowest turn goes next.
  const teams = [...byTeam].map(([team, list]) => ({
    team,
    turn: usage?.get(team)?.tasks ?? 0,
    heap: new MinHeap(list, compareCandidates),
  }));
  for (;;) {
    let next: (typeof teams)[number] | undefined;
    for (const t of teams) if (t.heap.size && (!next || turnBefore(t, next))) next = t;
    if (!next) return;
    next.turn++;
    yield next.heap.pop() as C;
  }
}

/**
 * Splits candidates into those to queue now (in dispatch order) and those that must wait, each with a
 * reason a user can act on. A candidate that does not fit (its team is at a quota, its DAG is full, its pool
 * lacks slots) does not block others that do fit; only global parallelism stops everything.
 *
 * @example selectDispatchable(cands, { parallelism: 32, running: 0, runningByDag: new Map() }).dispatch
 */
export function selectDispatchable<C extends DispatchCandidate>(
  candidates: readonly C[],
  limits: CapacityLimits,
  lookahead = 0,
  /** The `next` to make when nothing fits at all, which the selection does not order otherwise (a heap over all). */
  blockedLookahead = lookahead,
): DispatchSelection<C> {
  const dispatch: C[] = [];
  const waiting: { candidate: C; reason: WaitReason }[] = [];
  let running = limits.running;
  const byDag = new Map(limits.runningByDag);
  const poolOpen = limits.poolOpenSlots ? new Map(limits.poolOpenSlots) : null;
  const usage = new Map<string, TeamUsage>();
  for (const [team, u] of limits.teamUsage ?? []) usage.set(team, { ...u });
  const byTask = new Map(limits.runningByTask ?? []);

  // A pool's answer per slots needed, shared by the candidates that ask it until a task is queued in the pool:
  // thousands waiting for one full pool then carry one reason, whose note is rendered once (noteRenderer).
  // By team, then pool, then slots: no key string built per candidate (10,000 of them on a tick).
  const poolAnswers = new Map<string, Map<string, Map<number, WaitReason | null>>>();
  const poolAnswer = (team: string, pool: string, slots: number): WaitReason | null => {
    let byPool = poolAnswers.get(team);
    if (!byPool) poolAnswers.set(team, (byPool = new Map()));
    let bySlots = byPool.get(pool);
    if (!bySlots) byPool.set(pool, (bySlots = new Map()));
    let answer = bySlots.get(slots);
    if (answer === undefined) {
      const key = teamKey(team, pool);
      bySlots.set(slots, (answer = poolProblem(pool, slots, poolOpen!.get(key), limits.poolTotalSlots?.get(key))));
    }
    return answer;
  };

  const heldBy = (team: string): TeamUsage => usage.get(team) ?? NOTHING_HELD;

  const counts: HeldCounts = { byDag, byTask, usage, poolOpen };
  /**
   * The previous candidate problem() answered, and its answer: until a take, a candidate asking for the same as it
   * (team, DAG, pool, slots, limits; no per-task limit) gets the same answer. Thousands waiting for one full pool
   * come a run after another with equal fields (one string each: snapshot-columns.ts), and each answer cost a key
   * built and four lookups (a quarter of a tick that freed one slot of such a pool).
   */
  let last: C | null = null;
  let lastAnswer: WaitReason | null = null;
  /** Queues `c` (problem(c) said it fits): what it takes is held from now on. */
  const take = (c: C): void => {
    dispatch.push(c);
    running++;
    holdIn(counts, c);
    last = null;
    if (poolOpen) poolAnswers.get(c.ti.team)?.delete(c.ti.pool);
  };

  /** Why `c` cannot be queued with what is held so far, or null when it fits. */
  const problem = (c: C): WaitReason | null => {
    if (last && asksAlike(c, last)) return lastAnswer;
    last = c;
    lastAnswer = freshProblem(c);
    return lastAnswer;
  };

  const freshProblem = (c: C): WaitReason | null => {
    const { team, dag_id, pool } = c.ti;
    const slots = poolSlotsOf(c.ti);
    const held = heldBy(team);
    // The team's quotas first: they hold every task of the team whatever its DAG or pool.
    const quota = quotaProblem(team, limits.teamQuotas?.get(team), held, slots, c.inline === true);
    if (quota) return quota;
    if ((byDag.get(teamKey(team, dag_id)) ?? 0) >= c.maxActiveTasks)
      return { kind: "max_active_tasks", dag_id, max_active_tasks: c.maxActiveTasks };
    const perTask = c.maxActiveTisPerDag;
    if (perTask !== undefined && (byTask.get(taskKey(c.ti)) ?? 0) >= perTask)
      return { kind: "max_active_tis_per_dag", dag_id, task_id: c.ti.task_id, max_active_tis_per_dag: perTask };
    return poolOpen ? poolAnswer(team, pool, slots) : null;
  };

  // Nothing fits (every pool they use full, their quotas or DAGs at their limits): holdings only grow as
  // candidates are taken, so a candidate that does not fit now fits in no order, and none is taken. Then
  // each waits for its reason as things stand, without the fair order: a heap over every candidate, on every
  // tick while thousands wait for a full pool (a fifth of such a tick). Stops at the first candidate that fits.
  /** Each of `rest` with its reason, or null as soon as one fits. */
  const allBlocked = (rest: Iterable<C>): { candidate: C; reason: WaitReason }[] | null => {
    const blocked: { candidate: C; reason: WaitReason }[] = [];
    for (const c of rest) {
      const reason = problem(c);
      if (!reason) return null;
      blocked.push({ candidate: c, reason });
    }
    return blocked;
  };
  if (running < limits.parallelism && candidates.length) {
    const blocked = allBlocked(candidates);
    if (blocked) {
      const next = blockedLookahead > 0 ? firstOf(fairTurns(candidates, limits.teamUsage), blockedLookahead) : [];
      return { dispatch, waiting: blocked, next };
    }
  }

  // Once parallelism is reached it stays reached: every later candidate waits for the same reason, shared
  // rather than built and checked again per candidate (a fan-out has thousands waiting on every tick), and
  // the rest are not ordered at all (unless `lookahead` asks which come next): they wait in their input order.
  const seen = new Set<C>();
  const order = running < limits.parallelism || lookahead > 0 ? fairTurns(candidates, limits.teamUsage) : candidates;
  let next: C[] = [];
  /** Whether a candidate was taken since allBlocked last looked at the rest. */
  let taken = false;
  /** Whether the loop stopped before the order's end (the rest all waiting). */
  let stopped = false;
  /** The refill queue: those waiting so far (asked in fair order), then `rest` in fair order. */
  const queue = (rest: Iterable<C>): C[] =>
    lookahead > 0 && order !== candidates
      ? firstOf(
          concat(
            waiting.map((w) => w.candidate),
            rest,
          ),
          lookahead,
        )
      : [];
  for (const c of order) {
    if (running >= limits.parallelism) {
      const full: WaitReason = { kind: "parallelism", parallelism: limits.parallelism, running };
      // Those waiting before parallelism was reached (for another reason), then c; the fair order goes on from
      // where it stopped (the generator's heaps hold the rest): O(lookahead log n).
      next = queue(concat([c], order));
      waiting.push({ candidate: c, reason: full });
      for (const rest of candidates) if (rest !== c && !seen.has(rest)) waiting.push({ candidate: rest, reason: full });
      stopped = true;
      break;
    }
    seen.add(c);
    const reason = problem(c);
    if (!reason) {
      take(c);
      taken = true;
      // While one more like it would fit (or parallelism is reached: the loop's first step says so to all), the
      // next in order is asked; else (its pool, DAG or quota just filled) the rest are looked at now, not after
      // ordering the next one (the heap's build, MinHeap).
      if (running >= limits.parallelism || !problem(c)) continue;
    } else waiting.push({ candidate: c, reason });
    // The same holds after a take: once nothing left fits, the rest wait for their reasons as things stand,
    // unordered. A slot freed in a full pool is taken by the first in fair order, and ordering the other
    // 9,871 waiting for it was 70% of such a tick (scripts/bench tick's decision latency).
    if (taken) {
      taken = false;
      const blocked = allBlocked(unseen(candidates, seen));
      if (blocked) {
        // Those that waited before the take, then the rest where the heaps left off.
        next = queue(order);
        waiting.push(...blocked);
        stopped = true;
        break;
      }
    }
  }
  // Every candidate was asked in fair order: those waiting are in it.
  if (!stopped) next = queue([]);
  return { dispatch, waiting, next };
}

/** Whether `a` asks the capacity for what `b` asks (so holds the same answer under the same holdings). */
function asksAlike(a: DispatchCandidate, b: DispatchCandidate): boolean {
  const x = a.ti;
  const y = b.ti;
  return (
    x.team === y.team &&
    x.dag_id === y.dag_id &&
    x.pool === y.pool &&
    x.pool_slots === y.pool_slots &&
    a.maxActiveTasks === b.maxActiveTasks &&
    a.inline === b.inline &&
    a.maxActiveTisPerDag === undefined &&
    b.maxActiveTisPerDag === undefined
  );
}

/** The first `n` of `items`, taken one at a time (a generator is not run further). */
function firstOf<C>(items: Iterable<C>, n: number): C[] {
  const out: C[] = [];
  for (const c of items) {
    out.push(c);
    if (out.length >= n) break;
  }
  return out;
}

function* concat<C>(first: readonly C[], rest: Iterable<C>): Generator<C> {
  yield* first;
  yield* rest;
}

function* unseen<C>(candidates: readonly C[], seen: ReadonlySet<C>): Generator<C> {
  for (const c of candidates) if (!seen.has(c)) yield c;
}

/** What a team holds when it holds nothing (read only: counting a task sets a new object). */
export const NOTHING_HELD: TeamUsage = { tasks: 0, pool_slots: 0, inline: 0 };

/** What queued and running task instances hold, by key (CapacityLimits' maps, copied to be counted into). */
export interface HeldCounts {
  byDag: Map<string, number>;
  byTask: Map<string, number>;
  usage: Map<string, TeamUsage>;
  poolOpen: Map<string, number> | null;
}

/**
 * Counts `c` as held: its DAG's running count, its task's when it sets max_active_tis_per_dag, its team's usage
 * and its pool's open slots (a pool absent from the map stays absent: it does not exist). A queued candidate
 * (selectDispatchable) and a refill not yet seen by a read (refill.ts withRefills) are counted alike.
 */
export function holdIn(held: HeldCounts, c: Pick<DispatchCandidate, "ti" | "inline" | "maxActiveTisPerDag">): void {
  const { team, dag_id, pool } = c.ti;
  const slots = poolSlotsOf(c.ti);
  const dagKey = teamKey(team, dag_id);
  held.byDag.set(dagKey, (held.byDag.get(dagKey) ?? 0) + 1);
  if (c.maxActiveTisPerDag !== undefined) held.byTask.set(taskKey(c.ti), (held.byTask.get(taskKey(c.ti)) ?? 0) + 1);
  const u = held.usage.get(team) ?? NOTHING_HELD;
  held.usage.set(team, { tasks: u.tasks + 1, pool_slots: u.pool_slots + slots, inline: u.inline + (c.inline ? 1 : 0) });
  const poolKey = teamKey(team, pool);
  const open = held.poolOpen?.get(poolKey);
  if (open !== undefined) held.poolOpen!.set(poolKey, open - slots);
}

/** The pool slots a task instance takes: at least one. */
export const poolSlotsOf = (ti: Pick<TaskInstanceRecord, "pool_slots">): number => Math.max(1, ti.pool_slots);

/** The team quota one more task would break, if any: running tasks, then pool slots, then inline requests. */
function quotaProblem(team: string, quotas: TeamQuotas | undefined, held: TeamUsage, slots: number, inline: boolean): WaitReason | null {
  if (!quotas) return null;
  const { max_running_tasks: tasks, max_pool_slots: poolSlots, max_inline_requests: inlineMax } = quotas;
  if (tasks !== null && held.tasks >= tasks)
    return { kind: "team_quota", team, quota: "max_running_tasks", limit: tasks, used: held.tasks };
  if (poolSlots !== null && held.pool_slots + slots > poolSlots)
    return { kind: "team_quota", team, quota: "max_pool_slots", limit: poolSlots, used: held.pool_slots, needed: slots };
  if (inline && inlineMax !== null && held.inline >= inlineMax)
    return { kind: "team_quota", team, quota: "max_inline_requests", limit: inlineMax, used: held.inline };
  return null;
}

function poolProblem(pool: string, needed: number, open: number | undefined, total: number | undefined): WaitReason | null {
  if (open === undefined) return { kind: "pool_missing", pool };
  if (open >= needed) return null;
  if (total !== undefined && needed > total) return { kind: "pool_too_small", pool, needed, total };
  // Open can be negative when a pool shrank below its occupied slots; a user is shown 0.
  return { kind: "pool_full", pool, needed, open: Math.max(0, open), ...(total !== undefined ? { total } : {}) };
}
