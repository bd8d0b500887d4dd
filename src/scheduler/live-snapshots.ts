/**
 * LiveSnapshots: the loop's copy of its large active runs, so a tick re-reads only what changed in them
 * instead of every task instance. A fan-out of 1,000 tasks woken 30 times a second would otherwise read
 * 30,000 rows a second to learn of the few dozen that moved.
 *
 * A held run is refreshed with loadRunChanges: the store compares each task instance's state, try_number and
 * updated_at with the held version and returns the ones that differ (every state write stamps updated_at,
 * whoever made it: an agent, the API, another replica), plus the run row. Note-only writes do not stamp it,
 * so the loop reports the notes it writes (notesWritten); other notes (a user's) show at the next full read.
 * Each refresh also returns a cursor, and the next refresh of the run passes it instead of the held versions:
 * the store then reads only the rows stamped since (migration 0018), so a tick costs the changes, not the run's
 * size (a 10,000-task fan-out spent a third of the server's CPU comparing every version on every tick).
 * Full sweeps read every run in full (the backstop), and runs smaller than `minTasks` are always read in full:
 * diffing them saves nothing, and holding 10,000 small runs would cost memory for nothing.
 *
 * A held run also remembers which of its tasks changed since its previous plan (changedTasks), so the planner
 * decides only what those changes can move. The loop reports a plan done (planned) only after its writes,
 * so a tick that fails in between plans the same tasks again, with whatever changed meanwhile.
 */
import {
  isTerminalDagRunState,
  transitioned,
  type DagRunRecord,
  type RunSnapshot,
  type TaskInstanceRecord,
  type TaskNoteUpdate,
  type TaskTransition,
} from "../domain";
import type { ChangeCursor, KnownTaskInstance, RunChanges, SchedulerStore } from "../store";

/** Runs with at least this many task instances are held between ticks. */
export const LIVE_SNAPSHOT_MIN_TASKS = 64;
/** A held run not planned for this long is dropped (it ended outside the loop, or its DAG was paused). */
const IDLE_MS = 10 * 60_000;

/**
 * `order`: the run's task instances in id order, `at`: each id's index in it. A snapshot is a copy of `order`,
 * not a walk of a map (iterating a 10,000-entry map on every tick cost more than the tick's read).
 * `changed`: task ids whose task instances changed since the run's previous plan; null: plan it all (read in full).
 * `cursor`: where the run's previous refresh left off; absent until the first refresh after a full read, which
 * compares the held versions instead.
 */
type Held = {
  run: DagRunRecord;
  order: TaskInstanceRecord[];
  at: Map<number, number>;
  usedAt: number;
  changed: Set<string> | null;
  cursor?: ChangeCursor;
};

/** The held task instances of a run, from records in id order. */
function heldTis(order: TaskInstanceRecord[]): Pick<Held, "order" | "at"> {
  return { order, at: new Map(order.map((ti, i) => [ti.id, i])) };
}

/** Replaces a held task instance's record (its id is held). */
function replaceTi(h: Held, ti: TaskInstanceRecord): void {
  h.order[h.at.get(ti.id)!] = ti;
}

export type SnapshotStore = Pick<SchedulerStore, "loadRunSnapshots" | "loadRunChanges">;

export class LiveSnapshots {
  private readonly held = new Map<number, Held>();

  constructor(
    private readonly store: SnapshotStore,
    private readonly minTasks = LIVE_SNAPSHOT_MIN_TASKS,
  ) {}

  /** How many runs are held (tests and metrics). */
  get size(): number {
    return this.held.size;
  }

  /** Forgets every held run (a new term of leadership reads everything afresh). */
  reset(): void {
    this.held.clear();
  }

  /** Drops a run (it ended). */
  forget(runId: number): void {
    this.held.delete(runId);
  }

  /**
   * The snapshots of `runIds` (ids not found are omitted), in id order, task instances in id order. `full`
   * reads every run in full (a sweep); otherwise held runs are refreshed with their changes only.
   */
  async load(
    runIds: readonly number[],
    full: boolean,
    nowMs: number,
    readWhole: (ids: number[]) => Promise<RunSnapshot[]> = (ids) => this.store.loadRunSnapshots(ids),
  ): Promise<RunSnapshot[]> {
    this.dropIdle(nowMs);
    const refresh = full ? [] : runIds.filter((id) => this.held.has(id));
    const fresh = full ? [...runIds] : runIds.filter((id) => !this.held.has(id));
    const [whole, changes] = await Promise.all([
      fresh.length ? readWhole(fresh) : [],
      refresh.length ? this.store.loadRunChanges(refresh, this.knownOf(refresh), this.cursorsOf(refresh)) : [],
    ]);
    const out = new Map<number, RunSnapshot>();
    for (const snap of whole) out.set(snap.run.id, this.keep(snap, nowMs));
    const found = new Set(changes.map((c) => c.run.id));
    for (const id of refresh) if (!found.has(id)) this.held.delete(id); // the run is gone
    for (const c of changes) out.set(c.run.id, this.merge(c, nowMs));
    return runIds.flatMap((id) => out.get(id) ?? []).sort((a, b) => a.run.id - b.run.id);
  }

  /**
   * Which of `runIds` a load(…, full = false, nowMs) right after reads in full, the rest being held (the
   * loop reads those in one statement with its other reads and hands them to load as `readWhole`).
   */
  unheld(runIds: readonly number[], nowMs: number): number[] {
    this.dropIdle(nowMs);
    return runIds.filter((id) => !this.held.has(id));
  }

  /** By run id, the tasks that changed since each held run's previous plan; runs to plan in full are absent. */
  changedTasks(runIds: readonly number[]): Map<number, ReadonlySet<string>> {
    const out = new Map<number, ReadonlySet<string>>();
    for (const id of runIds) {
      const changed = this.held.get(id)?.changed;
      if (changed) out.set(id, changed);
    }
    return out;
  }

  /** The runs' plans were written (or lost their races): their next plans start from their changes since now. */
  planned(runIds: readonly number[]): void {
    for (const id of runIds) {
      const h = this.held.get(id);
      if (h) h.changed = new Set();
    }
  }

  /**
   * A transition the loop wrote into a task instance of run `runId` and saw apply: the held copy takes the row
   * as the store now holds it (domain transitioned()), so the run's next refresh finds it unchanged instead of
   * reading it back. A first tick of a 10,000-task fan-out schedules every waiting task, and the next refresh read
   * all 10,000 rows again: 180–206 ms of decoding on Postgres (scripts/bench fanout, traced). Taken only when the
   * held record is the one the write was conditional on (its state among the write's from-states, its try);
   * answers the new record, or null when the run is not held or its copy is not that record (read it again).
   */
  ownWrite(runId: number, t: TaskTransition, now: Date): TaskInstanceRecord | null {
    const h = this.held.get(runId);
    const at = h?.at.get(t.id);
    if (!h || at === undefined) return null;
    const ti = h.order[at]!;
    if (!t.from.includes(ti.state) || (t.try_number !== undefined && ti.try_number !== t.try_number)) return null;
    const written = transitioned(ti, t, now);
    h.order[at] = written;
    return written;
  }

  /** Records the notes the loop wrote (`applied` per input): note-only writes are invisible to loadRunChanges. */
  notesWritten(notes: readonly TaskNoteUpdate[], applied: readonly boolean[]): void {
    if (!this.held.size) return;
    notes.forEach((n, i) => {
      if (!applied[i]) return;
      for (const h of this.held.values()) {
        const at = h.at.get(n.id);
        if (at === undefined) continue;
        const ti = h.order[at]!;
        if (ti.state === n.state)
          replaceTi(h, { ...ti, note: n.note, ...(n.wait_reason === undefined ? {} : { wait_reason: n.wait_reason }) });
        return;
      }
    });
  }

  /**
   * The held versions of the task instances of those of `runIds` without a cursor (only those are compared: a
   * run's first refresh after a full read).
   */
  private knownOf(runIds: readonly number[]): ReadonlyMap<number, KnownTaskInstance> {
    const known = new Map<number, KnownTaskInstance>();
    for (const id of runIds) {
      const h = this.held.get(id);
      if (h && h.cursor === undefined) for (const ti of h.order) known.set(ti.id, ti);
    }
    return known;
  }

  /** The cursors of the held runs among `runIds` that have one. */
  private cursorsOf(runIds: readonly number[]): ReadonlyMap<number, ChangeCursor> {
    const cursors = new Map<number, ChangeCursor>();
    for (const id of runIds) {
      const cursor = this.held.get(id)?.cursor;
      if (cursor !== undefined) cursors.set(id, cursor);
    }
    return cursors;
  }

  /** Holds a fully read run when it is large and still active; returns it. */
  private keep(snap: RunSnapshot, nowMs: number): RunSnapshot {
    if (snap.tis.length >= this.minTasks && !isTerminalDagRunState(snap.run.state)) {
      const order = [...snap.tis].sort((a, b) => a.id - b.id);
      this.held.set(snap.run.id, { run: snap.run, ...heldTis(order), usedAt: nowMs, changed: null });
    } else this.held.delete(snap.run.id);
    return snap;
  }

  /** Applies a run's changes to its held copy; returns the whole snapshot. Records are replaced, never mutated. */
  private merge(changes: RunChanges, nowMs: number): RunSnapshot {
    const h = this.held.get(changes.run.id);
    if (!h) return { run: changes.run, tis: changes.tis };
    h.cursor = changes.cursor;
    // Another DAG version (a clear may re-pin the run): its tasks are not the ones planned before.
    if (changes.run.version_id !== h.run.version_id) h.changed = null;
    h.run = changes.run;
    h.usedAt = nowMs;
    const added: TaskInstanceRecord[] = [];
    for (const ti of changes.tis) {
      if (h.at.has(ti.id)) replaceTi(h, ti);
      else added.push(ti);
      h.changed?.add(ti.task_id);
    }
    if (added.length) Object.assign(h, heldTis([...h.order, ...added].sort((a, b) => a.id - b.id)));
    if (isTerminalDagRunState(h.run.state)) this.held.delete(h.run.id);
    return { run: h.run, tis: h.order.slice() };
  }

  private dropIdle(nowMs: number): void {
    for (const [id, h] of this.held) if (nowMs - h.usedAt > IDLE_MS) this.held.delete(id);
  }
}
