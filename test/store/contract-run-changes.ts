/**
 * Store contract for loadRunChanges (issue 18): the scheduler holds large runs between ticks and asks only
 * for what changed. A task instance is reported when the caller does not know it or its state, try_number or
 * updated_at differ from the known version, whoever wrote it; unchanged ones are not; the run row always is.
 * Each read returns a cursor; a read from it returns what was written or added after it, without known versions.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import { transitioned, type TaskTransition } from "../../src/domain";
import type { KnownTaskInstance, Store } from "../../src/store";
import { newRun, runOfBashTasks, runTask, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const TASKS = ["a", "b", "c"];

const runWithTasks = (store: Store, runId: string) => runOfBashTasks(store, "wide", TASKS, runId);

const versions = (tis: readonly KnownTaskInstance[]): KnownTaskInstance[] =>
  tis.map(({ id, state, try_number, updated_at }) => ({ id, state, try_number, updated_at }));
/** The known versions by id, as the scheduler passes them. */
const byId = (known: readonly KnownTaskInstance[]) => new Map(known.map((k) => [k.id, k]));

export function runChangesContract(getStore: () => Store): void {
  describe("loadRunChanges", () => {
    test("nothing changed: each run comes back with its current row and no task instances", async () => {
      const store = getStore();
      const { run, tis } = await runWithTasks(store, "r1");
      await store.setDagRunState(run.id, ["queued"], "running", at(1));
      const [changes] = await store.loadRunChanges([run.id], byId(versions(tis)));
      expect(changes!.run).toEqual((await store.getDagRunById(run.id))!);
      expect(changes!.run.state).toBe("running");
      expect(changes!.tis).toEqual([]);
    });

    test("a transition, a retry's new try and an unknown task instance are reported, in full", async () => {
      const store = getStore();
      const { run, tis } = await runWithTasks(store, "r1");
      const [a, b, c] = tis;
      expect(await store.applyTransitions([{ id: a!.id, from: ["none"], to: "scheduled" }], at(2))).toEqual([true]);
      // A try bump with the same state and the same updated_at as the known version still differs.
      const known = versions(tis).map((k) => (k.id === b!.id ? { ...k, try_number: k.try_number + 1 } : k));
      // `c` is not known at all.
      const [changes] = await store.loadRunChanges([run.id], byId(known.filter((k) => k.id !== c!.id)));
      expect(changes!.tis.map((t) => t.task_id).sort()).toEqual(["a", "b", "c"]);
      const changedA = changes!.tis.find((t) => t.id === a!.id)!;
      expect(changedA).toEqual((await store.getTaskInstanceById(a!.id))!);
      expect([changedA.state, changedA.updated_at]).toEqual(["scheduled", at(2)]);
    });

    test("only the task instances that differ come back; the known version of a changed one then matches", async () => {
      const store = getStore();
      const { run, tis } = await runWithTasks(store, "r1");
      await store.applyTransitions([{ id: tis[1]!.id, from: ["none"], to: "scheduled" }], at(3));
      const [first] = await store.loadRunChanges([run.id], byId(versions(tis)));
      expect(first!.tis.map((t) => t.task_id)).toEqual(["b"]);
      const updated = versions(tis.map((t) => first!.tis.find((c) => c.id === t.id) ?? t));
      const [second] = await store.loadRunChanges([run.id], byId(updated));
      expect(second!.tis).toEqual([]);
    });

    test("a stamp with a fraction of a second matches its known version exactly", async () => {
      const store = getStore();
      const { run, tis } = await runWithTasks(store, "r1");
      const steps = [
        ["none", "scheduled", 987],
        ["scheduled", "queued", 1],
        ["queued", "running", 999],
        ["running", "success", 500],
      ] as const;
      for (const [i, [from, to, ms]] of steps.entries()) {
        const stamp = new Date(at(10 + i).getTime() + ms);
        expect(await store.applyTransitions([{ id: tis[0]!.id, from: [from], to, try_number: 1 }], stamp)).toEqual([true]);
        const [snap] = await store.loadRunSnapshots([run.id]);
        const [changes] = await store.loadRunChanges([run.id], byId(versions(snap!.tis)));
        expect([ms, changes!.tis]).toEqual([ms, []]);
      }
    });

    test("several runs at once, each with its own changes; unknown run ids are omitted", async () => {
      const store = getStore();
      const r1 = await runWithTasks(store, "r1");
      const r2 = await runWithTasks(store, "r2");
      await store.applyTransitions([{ id: r2.tis[2]!.id, from: ["none"], to: "scheduled" }], at(4));
      const changes = await store.loadRunChanges([r2.run.id, 987654, r1.run.id], byId(versions([...r1.tis, ...r2.tis])));
      const byRun = new Map(changes.map((c) => [c.run.run_id, c.tis.map((t) => t.task_id)]));
      expect(Object.fromEntries(byRun)).toEqual({ r1: [], r2: ["c"] });
      expect(await store.loadRunChanges([], new Map())).toEqual([]);
    });

    test("from the cursor a read returned, the next read gets only what was written after it, with a new cursor", async () => {
      const store = getStore();
      const { run, tis } = await runWithTasks(store, "r1");
      const [a, b, c] = tis;
      await store.applyTransitions([{ id: a!.id, from: ["none"], to: "scheduled" }], at(1));
      const [first] = await store.loadRunChanges([run.id], byId(versions(tis)));
      expect(first!.tis.map((t) => t.task_id)).toEqual(["a"]);
      const since = (cursor: string) => new Map([[run.id, cursor]]);
      // Nothing written since: no task instance, whatever the known versions say (none are sent).
      const [quiet] = await store.loadRunChanges([run.id], new Map(), since(first!.cursor));
      expect([quiet!.run, quiet!.tis]).toEqual([(await store.getDagRunById(run.id))!, []]);
      // A transition, a retry's new try in the same state, and another writer's state: each seen once, in full.
      await store.applyTransitions([{ id: b!.id, from: ["none"], to: "scheduled" }], at(2));
      await store.applyOperatorChange({ clears: [{ id: c!.id, from: "none", from_try: 1, try_number: 2, max_tries: 1 }] }, at(3));
      const [second] = await store.loadRunChanges([run.id], new Map(), since(quiet!.cursor));
      expect(second!.tis.map((t) => [t.task_id, t.state, t.try_number])).toEqual([
        ["b", "scheduled", 1],
        ["c", "none", 2],
      ]);
      expect(second!.tis[0]).toEqual((await store.getTaskInstanceById(b!.id))!);
      // A note-only write is still not a change; the next state write is.
      await store.setTaskInstanceNotes([{ id: a!.id, state: "scheduled", note: "waiting" }]);
      const [third] = await store.loadRunChanges([run.id], new Map(), since(second!.cursor));
      expect(third!.tis).toEqual([]);
      await store.applyTransitions([{ id: a!.id, from: ["scheduled"], to: "queued", try_number: 1 }], at(4));
      const [fourth] = await store.loadRunChanges([run.id], new Map(), since(third!.cursor));
      expect(fourth!.tis.map((t) => [t.task_id, t.state])).toEqual([["a", "queued"]]);
    });

    test("from a cursor: task instances added to the run since (a mapped task's expansion) are reported", async () => {
      const store = getStore();
      const spec = parseDagSpec({
        dag_id: "mapped",
        tasks: [
          { task_id: "make", operator: "bash", bash_command: "true" },
          { task_id: "each", operator: "bash", bash_command: "true", expand: { x: { xcom: "make" } } },
        ],
      });
      const dag = await store.upsertDag("default", { spec, fileloc: "/dags/mapped.json", pausedOnCreate: false, now: T0 });
      const run = await store.createDagRun(newRun(dag, "r1", { tasks: [runTask("make"), runTask("each")] }));
      const [snap] = await store.loadRunSnapshots([run.id]);
      const [first] = await store.loadRunChanges([run.id], byId(versions(snap!.tis)));
      const each = snap!.tis.find((t) => t.task_id === "each")!;
      expect(await store.expandTaskInstances([{ id: each.id, count: 3 }], at(5))).toEqual([true]);
      const [after] = await store.loadRunChanges([run.id], new Map(), new Map([[run.id, first!.cursor]]));
      expect(after!.tis.map((t) => [t.task_id, t.map_index])).toEqual([
        ["each", 0],
        ["each", 1],
        ["each", 2],
      ]);
    });

    test("from a cursor: the reapers' writes are reported (a lost try failed, a launch put back, an orphan's tasks failed)", async () => {
      const store = getStore();
      const { run, tis } = await runWithTasks(store, "r1");
      const [a, b] = tis;
      for (const ti of [a!, b!]) {
        await store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], at(1));
        await store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "queued", try_number: 1, patch: { queued_at: at(2) } }], at(2));
      }
      const [first] = await store.loadRunChanges([run.id], byId(versions((await store.loadRunSnapshots([run.id]))[0]!.tis)));
      expect(first!.tis).toEqual([]);
      expect(
        await store.reapTaskInstances(
          [{ id: a!.id, try_number: 1, from: "queued", observed_at: at(2), to: "failed", note: "lost" }],
          at(3),
        ),
      ).toEqual([true]);
      expect(await store.deferDispatch(b!.id, 1, at(60), "launch failed; retrying", at(3))).toBe(true);
      const [second] = await store.loadRunChanges([run.id], new Map(), new Map([[run.id, first!.cursor]]));
      expect(second!.tis.map((t) => [t.task_id, t.state])).toEqual([
        ["a", "failed"],
        ["b", "scheduled"],
      ]);

      const orphan = await runWithTasks(store, "r2");
      await store.setDagRunState(orphan.run.id, ["queued"], "running", at(4));
      const [held] = await store.loadRunChanges([orphan.run.id], byId(versions(orphan.tis)));
      expect(await store.reapOrphanedRun(orphan.run.id, "orphaned", at(5))).toBe(true);
      const [reaped] = await store.loadRunChanges([orphan.run.id], new Map(), new Map([[orphan.run.id, held!.cursor]]));
      expect(reaped!.tis.map((t) => [t.task_id, t.state])).toEqual([
        ["a", "failed"],
        ["b", "failed"],
        ["c", "failed"],
      ]);
    });

    test("from a cursor: every writer of a task's state is reported (equal changes in a group, a row moved twice in a batch, an agent's try and its chain's next task, an inline end and the start it hands its slot to, a mark)", async () => {
      const store = getStore();
      // 68 tasks: a group of 64 or more equal changes takes a path of its own in both stores.
      const taskIds = Array.from({ length: 68 }, (_, i) => `t${i}`);
      const { run, tis } = await runOfBashTasks(store, "writers", taskIds, "r1");
      const id = (k: number) => tis[k]!.id;
      const [first] = await store.loadRunChanges([run.id], byId(versions(tis)));
      let cursor = first!.cursor;
      /** The task instances written since the previous call, as task:state, and the cursor moved past them. */
      const writtenSince = async (): Promise<string[]> => {
        const [changes] = await store.loadRunChanges([run.id], new Map(), new Map([[run.id, cursor]]));
        cursor = changes!.cursor;
        return changes!.tis.map((t) => `${t.task_id}:${t.state}`).sort();
      };
      await store.applyTransitions(
        tis.slice(0, 66).map((t) => ({ id: t.id, from: ["none"], to: "scheduled" as const })),
        at(1),
      );
      expect(await writtenSince()).toEqual(
        taskIds
          .slice(0, 66)
          .map((t) => `${t}:scheduled`)
          .sort(),
      );
      await store.applyTransitions(
        [
          { id: id(66), from: ["none"], to: "scheduled" },
          { id: id(66), from: ["scheduled"], to: "queued", try_number: 1 },
        ],
        at(2),
      );
      expect(await writtenSince()).toEqual(["t66:queued"]);
      // An agent's try: its start, then its end with its chain's next task queued.
      await store.applyTransitions([{ id: id(0), from: ["scheduled"], to: "queued", try_number: 1 }], at(3));
      expect(await writtenSince()).toEqual(["t0:queued"]);
      const t0 = { id: id(0), dag_id: "writers", run_id: "r1", task_id: "t0", try_number: 1 };
      expect((await store.startTry({ ...t0, hostname: "h1", pid: 1 }, at(4)))?.applied).toBe(true);
      expect(await writtenSince()).toEqual(["t0:running"]);
      const next = {
        scheduling: { id: id(67), from: ["none" as const], to: "scheduled" as const },
        queued: { id: id(67), from: ["scheduled" as const], to: "queued" as const, try_number: 1 },
      };
      const end = await store.finishTry({ ...t0, to: "success", note: null, final: false, next }, at(5));
      expect([end?.applied, end?.nextApplied]).toEqual([true, true]);
      expect(await writtenSince()).toEqual(["t0:success", "t67:queued"]);
      // An inline try's end, and the waiting task that takes its slot in the same write.
      await store.applyTransitions([{ id: id(1), from: ["scheduled"], to: "running", try_number: 1 }], at(6));
      expect(await writtenSince()).toEqual(["t1:running"]);
      const [inline] = await store.finishInlineTries(
        [
          {
            transition: { id: id(1), from: ["running"], to: "success", try_number: 1 },
            lines: null,
            xcom: null,
            next: { id: id(2), from: ["scheduled"], to: "running", try_number: 1 },
          },
        ],
        at(7),
      );
      expect([inline!.applied, inline!.nextApplied]).toEqual([true, true]);
      expect(await writtenSince()).toEqual(["t1:success", "t2:running"]);
      // An operator's mark.
      const marked = await store.applyOperatorChange({ transitions: [{ id: id(3), from: ["scheduled"], to: "failed" }] }, at(8));
      expect(marked.transitions).toEqual([true]);
      expect(await writtenSince()).toEqual(["t3:failed"]);
      expect(await writtenSince()).toEqual([]);
    });

    test("runs with and without a cursor in one read: each answered its own way, in run id order", async () => {
      const store = getStore();
      const r1 = await runWithTasks(store, "r1");
      const r2 = await runWithTasks(store, "r2");
      const [held] = await store.loadRunChanges([r2.run.id], byId(versions(r2.tis)));
      await store.applyTransitions(
        [
          { id: r1.tis[0]!.id, from: ["none"], to: "scheduled" },
          { id: r2.tis[1]!.id, from: ["none"], to: "scheduled" },
        ],
        at(6),
      );
      const changes = await store.loadRunChanges([r2.run.id, r1.run.id], byId(versions(r1.tis)), new Map([[r2.run.id, held!.cursor]]));
      expect(changes.map((c) => [c.run.run_id, c.tis.map((t) => t.task_id)])).toEqual([
        ["r1", ["a"]],
        ["r2", ["b"]],
      ]);
      expect(changes.every((c) => typeof c.cursor === "string")).toBe(true);
    });

    test("a note-only write is not a change (the scheduler records its own notes)", async () => {
      const store = getStore();
      const { run, tis } = await runWithTasks(store, "r1");
      expect(await store.setTaskInstanceNotes([{ id: tis[0]!.id, state: "none", note: "waiting" }])).toEqual([true]);
      const [changes] = await store.loadRunChanges([run.id], byId(versions(tis)));
      expect(changes!.tis).toEqual([]);
    });

    test("a transition leaves the row transitioned() says, so a copy kept by it is not read back", async () => {
      const store = getStore();
      const { run, tis } = await runWithTasks(store, "r1");
      const id = tis[0]!.id;
      // The scheduler's own writes: a waiting task's move into scheduled with its note (text as stored: a NUL
      // becomes U+FFFD), a start, and an end whose patch sets no wait (the wait is cleared).
      const steps: TaskTransition[] = [
        {
          id,
          from: ["none"],
          to: "scheduled",
          try_number: 1,
          patch: { note: "waiting \u0000 for a slot", wait_reason: "max_active_tasks" },
        },
        {
          id,
          from: ["scheduled"],
          to: "running",
          try_number: 1,
          patch: { queued_at: at(21), start_date: at(21), executor: "inline", hostname: "h1" },
        },
        { id, from: ["running"], to: "success", try_number: 1, patch: { end_date: at(22), note: null } },
      ];
      for (const [i, t] of steps.entries()) {
        const [before] = await store.loadRunSnapshots([run.id]);
        const now = new Date(at(20 + i).getTime() + 123);
        expect(await store.applyTransitions([t], now)).toEqual([true]);
        const kept = transitioned(before!.tis.find((ti) => ti.id === id)!, t, now);
        const [after] = await store.loadRunSnapshots([run.id]);
        expect([t.to, after!.tis.find((ti) => ti.id === id)]).toEqual([t.to, kept]);
        const known = byId(versions(after!.tis.map((ti) => (ti.id === id ? kept : ti))));
        const [changes] = await store.loadRunChanges([run.id], known);
        expect([t.to, changes!.tis]).toEqual([t.to, []]);
      }
    });
  });
}
