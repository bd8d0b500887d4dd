/**
 * LiveSnapshots holds large runs between ticks and asks the store only for their changes; small runs and
 * sweeps are read in full; ended runs are dropped; the notes the loop writes are kept in the held copy.
 * Over an in-memory store that answers like the contract (test/store/contract-run-changes.ts): no I/O.
 */
import { describe, expect, test } from "bun:test";
import type { DagRunRecord, RunSnapshot, TaskInstanceRecord, TaskState, TaskTransition } from "../../../src/domain";
import { LiveSnapshots, type SnapshotStore } from "../../../src/scheduler/live-snapshots";
import type { KnownTaskInstance } from "../../../src/store";

const T = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

function memoryStore(runs: { id: number; tasks: number }[]) {
  const rows = new Map<number, DagRunRecord>();
  const tis = new Map<number, TaskInstanceRecord>();
  let nextTi = 1;
  for (const r of runs) {
    rows.set(r.id, { id: r.id, team: "default", dag_id: "d", run_id: `r${r.id}`, state: "running" } as DagRunRecord);
    for (let i = 0; i < r.tasks; i++) {
      const id = nextTi++;
      tis.set(id, {
        id,
        dag_run_id: r.id,
        task_id: `t${i}`,
        state: "none",
        try_number: 1,
        note: null,
        wait_reason: null,
        updated_at: T(0),
      } as TaskInstanceRecord);
    }
  }
  const reads = { full: [] as number[][], changes: [] as { runs: number[]; known: number; since?: number }[], rowsReturned: 0 };
  /** Each write's number, as the store's change counter stamps it (migration 0018): a cursor is the last one read. */
  let seq = 0;
  const stamps = new Map<number, number>();
  const snapshot = (id: number, keep: (ti: TaskInstanceRecord) => boolean): RunSnapshot => ({
    run: rows.get(id)!,
    tis: [...tis.values()].filter((t) => t.dag_run_id === id && keep(t)),
  });
  const store: SnapshotStore = {
    async loadRunSnapshots(ids) {
      reads.full.push([...ids]);
      const out = ids.filter((id) => rows.has(id)).map((id) => snapshot(id, () => true));
      reads.rowsReturned += out.reduce((n, s) => n + s.tis.length, 0);
      return out;
    },
    async loadRunChanges(ids, known: ReadonlyMap<number, KnownTaskInstance>, since?: ReadonlyMap<number, string>) {
      reads.changes.push({ runs: [...ids], known: known.size, ...(since?.size ? { since: since.size } : {}) });
      const byId = known;
      const differs = (t: TaskInstanceRecord) => {
        const k = byId.get(t.id);
        return !k || k.state !== t.state || k.try_number !== t.try_number || k.updated_at.getTime() !== t.updated_at.getTime();
      };
      const stampedAfter = (from: string) => (t: TaskInstanceRecord) => (stamps.get(t.id) ?? 0) > Number(from);
      const out = ids
        .filter((id) => rows.has(id))
        .map((id) => ({ ...snapshot(id, since?.has(id) ? stampedAfter(since.get(id)!) : differs), cursor: String(seq) }));
      reads.rowsReturned += out.reduce((n, s) => n + s.tis.length, 0);
      return out;
    },
  };
  /** Another writer (an agent, the API) moves a task instance: a state write stamps updated_at. */
  const write = (id: number, state: TaskState, at: Date, extra: Partial<TaskInstanceRecord> = {}) => {
    stamps.set(id, ++seq);
    tis.set(id, { ...tis.get(id)!, state, updated_at: at, ...extra });
  };
  return { store, reads, rows, tis, write };
}

const states = (s: RunSnapshot | undefined) => s?.tis.map((t) => `${t.id}:${t.state}`) ?? [];

describe("LiveSnapshots", () => {
  test("a large run is read in full once, then only its changes; the snapshot it gives is whole and current", async () => {
    const m = memoryStore([{ id: 1, tasks: 5 }]);
    const live = new LiveSnapshots(m.store, 3);
    const [first] = await live.load([1], false, 0);
    expect(states(first)).toEqual(["1:none", "2:none", "3:none", "4:none", "5:none"]);
    m.write(2, "scheduled", T(1));
    m.write(4, "scheduled", T(1));
    const [second] = await live.load([1], false, 1000);
    expect(states(second)).toEqual(["1:none", "2:scheduled", "3:none", "4:scheduled", "5:none"]);
    expect(m.reads.full).toEqual([[1]]);
    expect(m.reads.changes).toEqual([{ runs: [1], known: 5 }]);
    // 5 rows for the first read, then only the 2 that changed.
    expect(m.reads.rowsReturned).toBe(7);
  });

  test("after its first refresh a run is refreshed from the cursor it returned: no versions sent, only later writes come back", async () => {
    const m = memoryStore([{ id: 1, tasks: 5 }]);
    const live = new LiveSnapshots(m.store, 3);
    await live.load([1], false, 0);
    m.write(2, "scheduled", T(1));
    await live.load([1], false, 1);
    m.write(5, "scheduled", T(2));
    const [third] = await live.load([1], false, 2);
    expect(states(third)).toEqual(["1:none", "2:scheduled", "3:none", "4:none", "5:scheduled"]);
    await live.load([1], false, 3);
    expect(m.reads.changes).toEqual([
      { runs: [1], known: 5 },
      { runs: [1], known: 0, since: 1 },
      { runs: [1], known: 0, since: 1 },
    ]);
    // 5 in full, then 1, then 1 (not 2: the write before the cursor is not read again), then none.
    expect(m.reads.rowsReturned).toBe(5 + 1 + 1);
    // A full read starts over: compared once, then from its new cursor.
    await live.load([1], true, 4);
    await live.load([1], false, 5);
    expect(m.reads.changes.at(-1)).toEqual({ runs: [1], known: 5 });
  });

  test("a snapshot handed out stays as it was: a later refresh or note changes only the snapshots after it", async () => {
    const m = memoryStore([{ id: 1, tasks: 4 }]);
    const live = new LiveSnapshots(m.store, 3);
    await live.load([1], false, 0);
    m.write(2, "scheduled", T(1));
    const [before] = await live.load([1], false, 1);
    m.write(2, "running", T(2));
    live.notesWritten([{ id: 3, state: "none", note: "waits" }], [true]);
    const [after] = await live.load([1], false, 2);
    expect(states(before)).toEqual(["1:none", "2:scheduled", "3:none", "4:none"]);
    expect(before?.tis[2]?.note).toBeNull();
    expect(states(after)).toEqual(["1:none", "2:running", "3:none", "4:none"]);
    expect(after?.tis[2]?.note).toBe("waits");
  });

  test("a retry (same state, new try) and a state the API set are both seen; nothing else is re-read", async () => {
    const m = memoryStore([{ id: 1, tasks: 4 }]);
    const live = new LiveSnapshots(m.store, 3);
    await live.load([1], false, 0);
    m.write(1, "none", T(0), { try_number: 2 });
    m.write(3, "success", T(2));
    const [snap] = await live.load([1], false, 1);
    expect(snap?.tis.map((t) => [t.id, t.state, t.try_number])).toEqual([
      [1, "none", 2],
      [2, "none", 1],
      [3, "success", 1],
      [4, "none", 1],
    ]);
    expect(m.reads.rowsReturned).toBe(4 + 2);
  });

  test("a sweep reads in full; small runs are always read in full and not held", async () => {
    const m = memoryStore([
      { id: 1, tasks: 5 },
      { id: 2, tasks: 2 },
    ]);
    const live = new LiveSnapshots(m.store, 3);
    await live.load([1, 2], false, 0);
    expect(live.size).toBe(1);
    await live.load([1, 2], false, 1);
    await live.load([1, 2], true, 2);
    expect(m.reads.full).toEqual([[1, 2], [2], [1, 2]]);
    expect(m.reads.changes.map((c) => c.runs)).toEqual([[1]]);
  });

  test("a run that ended, vanished or was forgotten is no longer held", async () => {
    const m = memoryStore([
      { id: 1, tasks: 4 },
      { id: 2, tasks: 4 },
      { id: 3, tasks: 4 },
    ]);
    const live = new LiveSnapshots(m.store, 3);
    await live.load([1, 2, 3], false, 0);
    expect(live.size).toBe(3);
    m.rows.set(1, { ...m.rows.get(1)!, state: "success" });
    m.rows.delete(2);
    live.forget(3);
    const snaps = await live.load([1, 2], false, 1);
    expect(snaps.map((s) => [s.run.id, s.run.state])).toEqual([[1, "success"]]);
    expect(live.size).toBe(0);
  });

  test("a run not planned for ten minutes is dropped and read in full next time", async () => {
    const m = memoryStore([{ id: 1, tasks: 4 }]);
    const live = new LiveSnapshots(m.store, 3);
    await live.load([1], false, 0);
    await live.load([1], false, 10 * 60_000 + 1);
    expect(m.reads.full).toEqual([[1], [1]]);
  });

  test("notes the loop wrote are kept in the held copy (note-only writes are not changes), only for the state they were written in", async () => {
    const m = memoryStore([{ id: 1, tasks: 4 }]);
    const live = new LiveSnapshots(m.store, 3);
    await live.load([1], false, 0);
    live.notesWritten(
      [
        { id: 1, state: "none", note: "waits for a pool slot", wait_reason: "pool_full" },
        { id: 2, state: "scheduled", note: "not in this state", wait_reason: "pool_full" },
        { id: 3, state: "none", note: "refused by the store" },
      ],
      [true, true, false],
    );
    const [snap] = await live.load([1], false, 1);
    expect(snap?.tis.map((t) => [t.id, t.note, t.wait_reason])).toEqual([
      [1, "waits for a pool slot", "pool_full"],
      [2, null, null],
      [3, null, null],
      [4, null, null],
    ]);
  });
  test("the loop's own writes are taken into the held copy and not read back; a write the copy was not conditional on is not", async () => {
    const m = memoryStore([{ id: 1, tasks: 5 }]);
    const live = new LiveSnapshots(m.store, 3);
    await live.load([1], false, 0);
    // The store applies these (the memory store plays the database), then the loop reports them.
    const schedule = (id: number, try_number?: number): TaskTransition => ({
      id,
      from: ["none"],
      to: "scheduled",
      ...(try_number ? { try_number } : {}),
      patch: { note: "waits", wait_reason: "max_active_tasks" },
    });
    for (const id of [1, 2, 3]) m.write(id, "scheduled", T(1), { note: "waits", wait_reason: "max_active_tasks" });
    const kept = live.ownWrite(1, schedule(1, 1), T(1));
    expect(kept && [kept.state, kept.note, kept.wait_reason, kept.updated_at]).toEqual(["scheduled", "waits", "max_active_tasks", T(1)]);
    expect(live.ownWrite(1, schedule(2), T(1))?.state).toBe("scheduled");
    // Held on another try, or in a state the write was not from: the copy is left to be read again.
    expect(live.ownWrite(1, schedule(3, 2), T(1))).toBeNull();
    expect(live.ownWrite(1, { id: 4, from: ["scheduled"], to: "queued" }, T(1))).toBeNull();
    // Not held: a run or a task instance this copy does not have.
    expect(live.ownWrite(2, schedule(1, 1), T(1))).toBeNull();
    expect(live.ownWrite(1, schedule(99, 1), T(1))).toBeNull();
    const before = m.reads.rowsReturned;
    const [snap] = await live.load([1], false, 1);
    // Only task instance 3 (written, not taken) is read back.
    expect(m.reads.rowsReturned - before).toBe(1);
    expect(snap!.tis.find((t) => t.id === 1)).toBe(kept!);
    expect(states(snap)).toEqual(["1:scheduled", "2:scheduled", "3:scheduled", "4:none", "5:none"]);
  });

  test("changedTasks: everything after a full read; then the tasks changed since the last plan the loop reported done", async () => {
    const m = memoryStore([{ id: 1, tasks: 5 }]);
    const live = new LiveSnapshots(m.store, 3);
    await live.load([1], false, 0);
    expect(live.changedTasks([1])).toEqual(new Map()); // read in full: plan it all
    live.planned([1]);
    expect(live.changedTasks([1])).toEqual(new Map([[1, new Set()]]));
    m.write(2, "scheduled", T(1));
    await live.load([1], false, 1);
    expect(live.changedTasks([1])).toEqual(new Map([[1, new Set(["t1"])]]));
    // A tick that failed before its writes were done reports nothing: the next plan sees both changes.
    m.write(4, "success", T(2));
    await live.load([1], false, 2);
    expect(live.changedTasks([1])).toEqual(new Map([[1, new Set(["t1", "t3"])]]));
    live.planned([1]);
    await live.load([1], false, 3);
    expect(live.changedTasks([1])).toEqual(new Map([[1, new Set()]]));
    // Another DAG version, or a sweep's full read: plan it all again.
    m.rows.set(1, { ...m.rows.get(1)!, version_id: 2 });
    await live.load([1], false, 4);
    expect(live.changedTasks([1])).toEqual(new Map());
    live.planned([1]);
    await live.load([1], true, 5);
    expect(live.changedTasks([1])).toEqual(new Map());
  });
});
