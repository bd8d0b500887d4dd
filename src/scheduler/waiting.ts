/**
 * What the loop needs so waiting work says why it waits: pool limits for selectDispatchable, the notes of
 * task instances that wait for capacity or for their past, and the previous-run lookup depends_on_past needs.
 */
import {
  occupiedSlots,
  renderWaitReason,
  teamKey,
  type DagSpec,
  type WaitReason,
  type PoolOccupancy,
  type RunSnapshot,
  type TaskInstancePatch,
  type TaskInstanceRecord,
  type TaskNoteUpdate,
} from "../domain";
import type { Store } from "../store";
import type { CapacityLimits } from "./capacity";
import { needsPreviousRun, pastBlocks } from "./depends-on-past";

/**
 * Open and total slots per pool for selectDispatchable, by teamKey(team, name): each team has its own pools.
 * Occupied = running + queued slots, and deferred ones when the pool's include_deferred is true (Airflow's
 * occupied_slots: occupiedSlots); unlimited pools (-1) never fill.
 *
 * @example poolLimits([{ team: "default", name: "default_pool", slots: 128, running_slots: 3, queued_slots: 1, … }]).poolOpenSlots // Map { default/default_pool → 124 }
 */
export function poolLimits(pools: readonly PoolOccupancy[]): Required<Pick<CapacityLimits, "poolOpenSlots" | "poolTotalSlots">> {
  const poolOpenSlots = new Map<string, number>();
  const poolTotalSlots = new Map<string, number>();
  for (const p of pools) {
    const unlimited = p.slots < 0;
    const key = teamKey(p.team, p.name);
    poolTotalSlots.set(key, unlimited ? Infinity : p.slots);
    poolOpenSlots.set(key, unlimited ? Infinity : p.slots - occupiedSlots(p));
  }
  return { poolOpenSlots, poolTotalSlots };
}

/** The pools (by teamKey) whose include_deferred counts deferred task instances: their sensors wait for a slot to defer. */
export function poolsCountingDeferred(pools: readonly PoolOccupancy[]): ReadonlySet<string> {
  const counting = new Set<string>();
  for (const p of pools) if (p.include_deferred) counting.add(teamKey(p.team, p.name));
  return counting;
}

/** A waiting candidate as the loop remembers it: with the note and wait_reason it has once its note is written. */
export function withWaitReason<T extends TaskInstanceRecord>(ti: T, reason: WaitReason, note = renderWaitReason(reason)): T {
  return ti.note === note && ti.wait_reason === reason.kind ? ti : { ...ti, note, wait_reason: reason.kind };
}

/**
 * The patch that clears a waiting note once the task instance moves on (the transition itself clears
 * wait_reason); empty when the scheduler was not holding it, so a note it did not write (dispatch_failed: …) stays.
 */
export function waitCleared(ti: Pick<TaskInstanceRecord, "wait_reason">): Pick<TaskInstancePatch, "note"> {
  return ti.wait_reason === null ? {} : { note: null };
}

/** Note writes for task instances that must wait, only where the note or the kind changes. */
export function waitingNotes(waiting: readonly { candidate: { ti: TaskInstanceRecord }; reason: WaitReason }[]): TaskNoteUpdate[] {
  const render = noteRenderer();
  const out: TaskNoteUpdate[] = [];
  for (const { candidate, reason } of waiting) {
    const ti = candidate.ti;
    const note = render(reason);
    if (ti.note !== note || ti.wait_reason !== reason.kind) out.push({ id: ti.id, state: ti.state, note, wait_reason: reason.kind });
  }
  return out;
}

/** renderWaitReason remembering each reason object's note: thousands of candidates can share one reason. */
export function noteRenderer(): (reason: WaitReason) => string {
  const rendered = new Map<WaitReason, string>();
  return (reason) => {
    let note = rendered.get(reason);
    if (note === undefined) rendered.set(reason, (note = renderWaitReason(reason)));
    return note;
  };
}

/**
 * depends_on_past blocks per run id for the runs that need them, with one store query for all.
 * A run whose spec cannot be loaded is skipped here (planning reports that error). Each DAG version is asked
 * for once, and a version without depends_on_past tasks skips its runs without looking at them: a first sweep
 * passes 10,000 runs of one version, and awaiting its spec once per run cost ~20 ms (scripts/bench tick).
 */
export async function loadPastBlocks(
  store: Pick<Store, "listPreviousRunStates">,
  snapshots: readonly RunSnapshot[],
  specFor: (versionId: number) => Promise<DagSpec>,
): Promise<Map<number, Map<string, WaitReason>>> {
  const specs = new Map<number, DagSpec | null>();
  for (const snap of snapshots) {
    const v = snap.run.version_id;
    if (!specs.has(v)) specs.set(v, await specFor(v).catch(() => null));
  }
  const need: { snap: RunSnapshot; spec: DagSpec }[] = [];
  for (const snap of snapshots) {
    const spec = specs.get(snap.run.version_id);
    if (spec && hasDependsOnPast(spec) && needsPreviousRun(snap.run, snap.tis, spec)) need.push({ snap, spec });
  }
  const blocks = new Map<number, Map<string, WaitReason>>();
  if (!need.length) return blocks;
  const previous = new Map((await store.listPreviousRunStates(need.map((n) => n.snap.run.id))).map((p) => [p.dag_run_id, p.previous]));
  for (const { snap, spec } of need) {
    const blocked = pastBlocks(spec, snap.tis, previous.get(snap.run.id) ?? null);
    if (blocked.size) blocks.set(snap.run.id, blocked);
  }
  return blocks;
}

/** Whether any task of the spec sets depends_on_past, remembered per spec object (specs are cached and immutable). */
const withPastDeps = new WeakMap<DagSpec, boolean>();
function hasDependsOnPast(spec: DagSpec): boolean {
  let has = withPastDeps.get(spec);
  if (has === undefined) withPastDeps.set(spec, (has = spec.tasks.some((t) => t.depends_on_past)));
  return has;
}
