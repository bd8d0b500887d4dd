/**
 * Emits lifecycle events at the one door every state change goes through: the Store. Wrapping the store
 * (rather than sprinkling emits over the loop, the agent RPC, the API and the reapers) means no writer can
 * forget to emit, and a write that lost its race (returned false) emits nothing.
 *
 * Names (dag_id, run_id, task_id) are immutable, so they are remembered from what the scheduler already
 * reads (run snapshots, lookups) and fetched only on a miss — after the write, off the caller's path.
 * When the sink wants nothing (a bare hub without subscribers) nothing is remembered or looked up: the wrapper
 * costs one property check per call. The server's sink is the event log, which wants every event.
 *
 * @example const store = withStoreEvents(openStore(cfg.db), eventLog);
 */
import {
  isTerminalDagRunState,
  type DagRunState,
  type DagRunRecord,
  type RunSnapshot,
  type TaskInstanceRecord,
  type TaskTransition,
} from "../domain";
import { outcomeAfterXCom, type Store } from "../store";
import type { RunEnds } from "./run-ends";
import type { EventSink } from "./types";

interface TiNames {
  team: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  /** Kept for the transition observer (task metrics): what a transition's patch does not repeat. */
  operator: string;
  queued_at: Date | null;
  start_date: Date | null;
}

/** Sees every applied task transition with what is known of its task instance (task-metrics.ts). */
export type TransitionObserver = (ti: Readonly<TiNames>, t: TaskTransition, now: Date) => void;
type RunNames = { team: string; dag_id: string; run_id: string };

/** Past this many remembered names the cache starts over (names are re-learned on the next snapshot). */
const CACHE_LIMIT = 100_000;

export function withStoreEvents(
  store: Store,
  sink: EventSink,
  onError: (e: unknown) => void = () => {},
  observe?: TransitionObserver,
  runEnds?: Pick<RunEnds, "ended">,
): Store {
  /** Waiters on a run's end here (RunEnds) are told at once, whether or not anyone wants the events. */
  const tellIfEnded = (id: number, to: DagRunState) => {
    if (runEnds && isTerminalDagRunState(to)) runEnds.ended(id);
  };
  const tis = new Map<number, TiNames>();
  const runs = new Map<number, RunNames>();
  const listening = () => sink.wanted ?? true;
  const rememberTi = (ti: TaskInstanceRecord) => {
    if (tis.size >= CACHE_LIMIT) tis.clear();
    tis.set(ti.id, {
      team: ti.team,
      dag_id: ti.dag_id,
      run_id: ti.run_id,
      task_id: ti.task_id,
      map_index: ti.map_index,
      try_number: ti.try_number,
      operator: ti.operator,
      queued_at: ti.queued_at,
      start_date: ti.start_date,
    });
  };
  const rememberRun = (r: DagRunRecord) => {
    if (runs.size >= CACHE_LIMIT) runs.clear();
    runs.set(r.id, { team: r.team, dag_id: r.dag_id, run_id: r.run_id });
  };
  const rememberSnapshots = (snaps: readonly RunSnapshot[]) => {
    for (const s of snaps) {
      rememberRun(s.run);
      for (const ti of s.tis) rememberTi(ti);
    }
  };

  const tiNames = async (id: number): Promise<TiNames | null> => {
    const known = tis.get(id);
    if (known) return known;
    const ti = await store.getTaskInstanceById(id);
    if (ti) rememberTi(ti);
    return ti ? tis.get(id)! : null;
  };
  const runNames = async (id: number): Promise<RunNames | null> => {
    const known = runs.get(id);
    if (known) return known;
    const r = await store.getDagRunById(id);
    if (r) rememberRun(r);
    return r ?? null;
  };

  /** `observed`: false for an operator's changes, which are not tries that ran (task metrics time those). */
  const emitTransitions = async (transitions: TaskTransition[], applied: boolean[], now: Date, observed = true) => {
    // Once per batch: a large run's first tick emits ~10,000 of these, every end batch a few dozen.
    const time = now.toISOString();
    for (let i = 0; i < transitions.length; i++) {
      const t = transitions[i]!;
      if (!applied[i] || (t.from.length === 1 && t.from[0] === t.to)) continue;
      // Names already known without a turn of the event loop each (an await per event, even of a known name).
      const n = tis.get(t.id) ?? (await tiNames(t.id));
      if (!n) continue;
      const tryNumber = t.patch?.try_number ?? t.try_number ?? n.try_number;
      if (t.patch?.try_number !== undefined) n.try_number = t.patch.try_number;
      if (observed) observe?.(n, t, now);
      if (t.patch?.queued_at !== undefined) n.queued_at = t.patch.queued_at;
      if (t.patch?.start_date !== undefined) n.start_date = t.patch.start_date;
      sink.emit({
        type: "task_instance.state_changed",
        team: n.team,
        dag_id: n.dag_id,
        run_id: n.run_id,
        task_id: n.task_id,
        map_index: n.map_index,
        try_number: tryNumber,
        state: t.to,
        note: t.patch?.note ?? null,
        time,
      });
    }
  };

  const emitRunState = async (id: number, to: DagRunState, now: Date, note: string | undefined) => {
    const n = await runNames(id);
    if (!n) return;
    const base = { team: n.team, dag_id: n.dag_id, run_id: n.run_id, time: now.toISOString() };
    if (to === "running") sink.emit({ ...base, type: "dag_run.started", state: "running" });
    else if (isTerminalDagRunState(to)) sink.emit({ ...base, type: "dag_run.finished", state: to, note: note ?? null });
    else sink.emit({ ...base, type: "dag_run.state_changed", state: to, note: note ?? null });
  };

  /**
   * Emits after the write returned, without making the writer wait for name lookups; one chain keeps
   * events in the order their writes committed even when a lookup is needed.
   */
  let chain: Promise<void> = Promise.resolve();
  const later = (f: () => Promise<void>) => void (chain = chain.then(f).catch(onError));

  const emitCreated = (run: DagRunRecord) => {
    if (!listening()) return;
    rememberRun(run);
    sink.emit({
      type: "dag_run.created",
      team: run.team,
      dag_id: run.dag_id,
      run_id: run.run_id,
      state: run.state,
      time: run.queued_at.toISOString(),
    });
  };

  const overrides: Partial<Store> = {
    async createDagRun(input) {
      const run = await store.createDagRun(input);
      emitCreated(run);
      return run;
    },
    async createDagRuns(inputs) {
      const created = await store.createDagRuns(inputs);
      for (const run of created) if (run) emitCreated(run);
      return created;
    },
    async setDagRunState(id, from, to, now, note) {
      const ok = await store.setDagRunState(id, from, to, now, note);
      if (ok) tellIfEnded(id, to);
      if (ok && listening()) later(() => emitRunState(id, to, now, note));
      return ok;
    },
    async setDagRunStates(changes, now) {
      const applied = await store.setDagRunStates(changes, now);
      for (const [i, c] of changes.entries()) if (applied[i]) tellIfEnded(c.id, c.to);
      if (listening())
        changes.forEach((c, i) => {
          if (applied[i]) later(() => emitRunState(c.id, c.to, now, c.note));
        });
      return applied;
    },
    async applyTransitions(transitions, now) {
      const applied = await store.applyTransitions(transitions, now);
      if (listening() && applied.some(Boolean)) later(() => emitTransitions(transitions, applied, now));
      return applied;
    },
    async startTry(start, now) {
      const res = await store.startTry(start, now);
      if (res?.applied && listening()) {
        const { ti } = res;
        const patch = { start_date: ti.start_date, last_heartbeat: now, hostname: ti.hostname, pid: ti.pid, note: null };
        const t: TaskTransition = { id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number, patch };
        later(() => emitTransitions([t], [true], now));
      }
      return res;
    },
    async finishTry(finish, now) {
      const res = await store.finishTry(finish, now);
      if (res?.applied && listening()) {
        const { ti } = res;
        const patch = { end_date: now, note: ti.note, ...(finish.final ? { max_tries: ti.max_tries } : {}) };
        // As written: a failure with retries left is up_for_retry (failedTryState).
        const t: TaskTransition = { id: ti.id, from: ["running"], to: ti.state, try_number: ti.try_number, patch };
        // A chain's next task queued with this end follows it.
        const next =
          finish.next && res.nextApplied
            ? [finish.next.scheduling, finish.next.queued, ...(finish.next.start ? [finish.next.start] : [])]
            : [];
        later(() => emitTransitions([t, ...next], [true, ...next.map(() => true)], now));
      }
      return res;
    },
    async finishInlineTries(ends, now) {
      const results = await store.finishInlineTries(ends, now);
      const applied = results.map((r) => r.applied);
      // The transition as written: a refused XCom made it failed (up_for_retry with retries left), with the refusal as its note.
      const written = ends.map((e, i) => outcomeAfterXCom(e, results[i]?.refused ?? null));
      // The starts that took the freed slots follow their ends.
      for (const [i, e] of ends.entries())
        if (e.next && results[i]?.nextApplied) {
          if (e.nextScheduling) written.push(e.nextScheduling), applied.push(true);
          written.push(e.next), applied.push(true);
        }
      if (listening() && applied.some(Boolean)) later(() => emitTransitions(written, applied, now));
      return results;
    },
    async reapTaskInstances(reaps, now) {
      const applied = await store.reapTaskInstances(reaps, now);
      if (listening() && applied.some(Boolean))
        later(() =>
          emitTransitions(
            reaps.map((r) => ({ id: r.id, from: [r.from], to: r.to, try_number: r.try_number, patch: { note: r.note } })),
            applied,
            now,
          ),
        );
      return applied;
    },
    // An operator's clear or mark (API) is one transaction of task and run changes; each applied one is an event.
    async applyOperatorChange(change, now) {
      const applied = await store.applyOperatorChange(change, now);
      for (const [i, r] of (change.runs ?? []).entries()) if (applied.runs[i]) tellIfEnded(r.id, r.to);
      if (listening())
        later(async () => {
          const clears = (change.clears ?? []).map(
            (c): TaskTransition => ({
              id: c.id,
              from: [c.from],
              to: c.to ?? "none",
              // What the clear wiped, so the remembered names start the next try afresh.
              patch: { try_number: c.try_number, note: null, queued_at: null, start_date: null },
            }),
          );
          await emitTransitions([...(change.transitions ?? []), ...clears], [...applied.transitions, ...applied.clears], now, false);
          for (const [i, r] of (change.runs ?? []).entries()) if (applied.runs[i]) await emitRunState(r.id, r.to, now, r.note ?? undefined);
        });
      return applied;
    },
    async reapOrphanedRun(id, note, now) {
      const ok = await store.reapOrphanedRun(id, note, now);
      if (ok) tellIfEnded(id, "failed");
      if (ok && listening()) later(() => emitRunState(id, "failed", now, note));
      return ok;
    },
    async deferDispatch(tiId, tryNumber, nextAt, note, now) {
      const ok = await store.deferDispatch(tiId, tryNumber, nextAt, note, now);
      if (ok && listening())
        later(() =>
          emitTransitions([{ id: tiId, from: ["queued"], to: "scheduled", try_number: tryNumber, patch: { note } }], [true], now),
        );
      return ok;
    },
    async loadRunSnapshots(ids) {
      const snaps = await store.loadRunSnapshots(ids);
      if (listening()) rememberSnapshots(snaps);
      return snaps;
    },
    // A woken tick's read (every inline hop's): without it each task's first transition looked its names up,
    // a read beside the hop and its event held back until that read returned.
    async loadTickReads(snapshotIds, gateIds, gateDags) {
      const reads = await store.loadTickReads(snapshotIds, gateIds, gateDags);
      if (listening()) rememberSnapshots(reads.snapshots);
      return reads;
    },
    async getTaskInstanceById(id) {
      const ti = await store.getTaskInstanceById(id);
      if (ti && listening()) rememberTi(ti);
      return ti;
    },
  };

  return new Proxy(store, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && prop in overrides) return overrides[prop as keyof Store];
      const v = Reflect.get(target, prop, receiver);
      // Store methods use `this` (e.g. SqliteStore's db): call them on the real store, not the proxy.
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
