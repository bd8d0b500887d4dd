/**
 * Store contract for the sweep's read, loadRunSnapshots: both stores read the task instances leaner than
 * getTaskInstanceById does (no team, dag_id, run_id per task: they are the run's; rows as arrays), and the
 * planner must get exactly the same records. Every column is set to a value that would show a mix-up
 * (another team, quotes and commas in text, nested conf, every timestamp), in two runs read together; free text
 * also holds a control character, a tab, a newline and a backslash (what a packed or escaped encoding would trip on).
 */
import { describe, expect, test } from "bun:test";
import type { TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { newRun, T0 } from "./contract-fixtures";

const TEAM = "team-snap";
const at = (ms: number) => new Date(T0.getTime() + ms);
/** Free text with what text encodings escape or split on. */
const ODD = "\u001f\t\n\\";
const task = (task_id: string, over: { pool?: string; max_tries?: number; priority_weight?: number } = {}) => ({
  task_id,
  operator: "bash",
  max_tries: over.max_tries ?? 0,
  pool: over.pool ?? "default_pool",
  pool_slots: 2,
  priority_weight: over.priority_weight ?? 1,
});

async function runsWithEveryColumnSet(store: Store) {
  await store.ensureTeam(TEAM, T0);
  const dag = await store.upsertDag(TEAM, {
    spec: parseDagSpec({
      dag_id: "snap",
      tasks: ["a", "b", "c"].map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })),
    }),
    fileloc: "/dags/snap.json",
    pausedOnCreate: false,
    now: T0,
  });
  const first = await store.createDagRun(
    newRun(dag, 'r,"1"', {
      logical_date: at(1),
      data_interval_start: at(-86_400_000),
      data_interval_end: at(1),
      conf: { nested: [1, { deep: null }], text: 'é "q"' },
      note: "triggered, by hand",
      tasks: [task("a", { max_tries: 3, priority_weight: 7 }), task("b", { pool: `gpu${ODD}` }), task("c", { priority_weight: -5 })],
    }),
  );
  const second = await store.createDagRun(newRun(dag, "r2", { tasks: [task("a"), task("b"), task("c")] }));
  await store.setDagRunState(first.id, ["queued"], "running", at(2));
  const [a, b, c] = (await store.loadRunSnapshots([first.id]))[0]!.tis;
  // a: running with an agent (every timestamp but the end, host, pid, executor); b: waiting for a pool with a
  // note; c: ended, with a note.
  await store.applyTransitions(
    [
      { id: a!.id, from: ["none"], to: "scheduled" },
      { id: a!.id, from: ["scheduled"], to: "queued", patch: { queued_at: at(3), executor: "subprocess" } },
      { id: a!.id, from: ["queued"], to: "running", patch: { start_date: at(4), hostname: `host,"x"${ODD}`, pid: 4242 } },
      { id: b!.id, from: ["none"], to: "scheduled" },
      { id: c!.id, from: ["none"], to: "failed", patch: { end_date: at(7), note: `exit 1${ODD}` } },
    ],
    at(5),
  );
  await store.heartbeat(a!.id, 1, at(6));
  await store.setTaskInstanceNotes([
    { id: b!.id, state: "scheduled", note: `waiting for 2 slots in pool gpu${ODD}`, wait_reason: "pool_full" },
  ]);
  return { first, second };
}

export function snapshotsContract(getStore: () => Store): void {
  describe("loadRunSnapshots (the sweep's read)", () => {
    test("gives each run and task instance exactly as getDagRunById and getTaskInstanceById do, in id order", async () => {
      const store = getStore();
      const { first, second } = await runsWithEveryColumnSet(store);
      const snaps = await store.loadRunSnapshots([second.id, first.id]);
      expect(snaps.map((s) => s.run.id)).toEqual([first.id, second.id]);
      for (const snap of snaps) {
        expect(snap.run).toEqual((await store.getDagRunById(snap.run.id))!);
        const ids = snap.tis.map((t) => t.id);
        expect(ids).toEqual([...ids].sort((x, y) => x - y));
        const expected: TaskInstanceRecord[] = [];
        for (const id of ids) expected.push((await store.getTaskInstanceById(id))!);
        expect(snap.tis).toEqual(expected);
        expect(snap.tis.map((t) => [t.team, t.dag_id, t.run_id])).toEqual(ids.map(() => [TEAM, "snap", snap.run.run_id]));
      }
      const [a, b, c] = snaps[0]!.tis;
      expect(a).toMatchObject({ state: "running", try_number: 1, max_tries: 3, priority_weight: 7, pool_slots: 2, pid: 4242 });
      expect(a).toMatchObject({
        queued_at: at(3),
        start_date: at(4),
        last_heartbeat: at(6),
        hostname: `host,"x"${ODD}`,
        executor: "subprocess",
      });
      expect(a!.end_date).toBeNull();
      expect(b).toMatchObject({
        state: "scheduled",
        pool: `gpu${ODD}`,
        note: `waiting for 2 slots in pool gpu${ODD}`,
        wait_reason: "pool_full",
      });
      expect(c).toMatchObject({
        state: "failed",
        end_date: at(7),
        note: `exit 1${ODD}`,
        priority_weight: -5,
        map_index: -1,
        hostname: null,
      });
      expect(snaps[0]!.run).toMatchObject({ run_id: 'r,"1"', conf: { nested: [1, { deep: null }], text: 'é "q"' }, start_date: at(2) });
    });
  });
}
