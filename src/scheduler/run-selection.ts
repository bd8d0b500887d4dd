/**
 * Which runs a tick plans. A tick woken by events plans the runs asked for, plus the runs waiting on their
 * past (a task finishing in another run may free them). A sweep is the backstop: the first sweep after
 * start (or after leading again), and one in every FULL_SWEEP_EVERY, loads every active run; the others
 * load only what is new or changed since the previous sweep, plus runs waiting on their past, held by run
 * limits, or with a timed wake-up due (tasks waiting for capacity compete from memory, see DispatchStep) —
 * so a sweep over 10,000 quiet runs costs two index reads, not a reload of 100,000 task instances. Missed
 * wake-ups (another replica's notify lost) are still caught, because every task-instance write stamps
 * updated_at.
 */
import { teamKey } from "../domain";
import type { Store } from "../store";
import type { HeldRun } from "./run-limits";

/** Every this many sweeps, a sweep reloads every active run regardless (a backstop for the backstop). */
export const FULL_SWEEP_EVERY = 60;
export type SweepStore = Pick<Store, "listActiveRunIds" | "listRunIdsChangedAfter">;

export class RunSelection {
  /** Active run ids as of the previous sweep; null until the first (full) sweep. */
  private knownActive: Set<number> | null = null;
  /** Where the next incremental sweep's read of changed runs starts (the store's cursor from the previous sweep). */
  private changeCursor: string | null = null;
  private sweepsSinceFull = 0;
  /**
   * What the sweep under way saw, taken over by swept() once its tick is done: a sweep whose tick fails (a read
   * fails halfway) is repeated from the same view, instead of the next one taking its runs for planned.
   */
  private staged: { knownActive: Set<number>; changeCursor: string; sweepsSinceFull: number } | null = null;
  private lastSweepFull = true;
  /** Runs left unplanned by run limits (paused DAG, max_active_runs), to their teamKey: replanned when a run of that DAG ends. */
  private readonly held = new Map<number, string>();
  /** Runs with a task held back by depends_on_past: every tick plans them. */
  private readonly waitingOnPast = new Set<number>();

  constructor(private readonly store: SweepStore) {}

  /** The next sweep reloads every active run (a new term of leadership). */
  reset(): void {
    this.knownActive = null;
    this.staged = null;
  }

  /**
   * Whether the latest sweep is a full one, which also reads the runs the loop holds (live-snapshots.ts) in
   * full: the backstop for what refreshing them by their changes cannot see (note-only writes). Incremental
   * sweeps refresh them by their changes, as event ticks do.
   */
  get fullSweep(): boolean {
    return this.lastSweepFull;
  }

  /** Whether a run has a task held back by depends_on_past (a task ending in another run may free it). */
  get waitsOnPast(): boolean {
    return this.waitingOnPast.size > 0;
  }

  /** The runs a tick woken by events plans: those asked for and those waiting on their past. */
  forEvents(asked: Iterable<number>): number[] {
    return [...new Set([...asked, ...this.waitingOnPast])];
  }

  /**
   * The runs a sweep plans: those asked for always; on an incremental sweep also new and changed active
   * runs, the runs watched here and `due` (timed wake-ups due); on a full sweep every active run.
   */
  async forSweep(asked: Iterable<number>, due: Iterable<number>): Promise<number[]> {
    const active = await this.store.listActiveRunIds();
    const known = this.knownActive;
    const incremental = known !== null && this.sweepsSinceFull < FULL_SWEEP_EVERY;
    const ids = new Set<number>(asked);
    // The cursor is taken before the runs are read, so what is written while they are is found by the next sweep.
    const changed = await this.store.listRunIdsChangedAfter(incremental ? this.changeCursor : null);
    const activeSet = new Set(active);
    if (incremental) {
      for (const id of active) if (!known.has(id)) ids.add(id);
      for (const id of changed.runIds) if (activeSet.has(id)) ids.add(id);
      for (const id of this.waitingOnPast) ids.add(id);
      for (const id of this.held.keys()) ids.add(id);
      for (const id of due) ids.add(id);
    } else for (const id of active) ids.add(id);
    this.staged = {
      knownActive: activeSet,
      changeCursor: changed.cursor,
      sweepsSinceFull: incremental ? this.sweepsSinceFull + 1 : 0,
    };
    this.lastSweepFull = !incremental;
    return [...ids];
  }

  /** The sweep's tick is done (every write of its plans made): the next sweep starts from what this one saw. */
  swept(): void {
    if (!this.staged) return;
    this.knownActive = this.staged.knownActive;
    this.changeCursor = this.staged.changeCursor;
    this.sweepsSinceFull = this.staged.sweepsSinceFull;
    this.staged = null;
  }

  /** Records the run-limit decision for `gated` runs: `held` are held, the others no longer. */
  gated(gated: readonly number[], held: readonly HeldRun[]): void {
    for (const id of gated) this.held.delete(id);
    for (const h of held) this.held.set(h.id, teamKey(h.team, h.dag_id));
  }

  isHeld(runId: number): boolean {
    return this.held.has(runId);
  }

  /** The held runs of a team's DAG (a run of it ended: one of them may fit under max_active_runs now). */
  heldRunsOf(team: string, dagId: string): number[] {
    const key = teamKey(team, dagId);
    const ids: number[] = [];
    for (const [id, heldDag] of this.held) if (heldDag === key) ids.push(id);
    return ids;
  }

  /** Records which of the runs a tick selected wait on their past. */
  planned(selected: readonly number[], waitingOnPast: Iterable<number>): void {
    for (const id of selected) this.waitingOnPast.delete(id);
    for (const id of waitingOnPast) this.waitingOnPast.add(id);
  }
}
