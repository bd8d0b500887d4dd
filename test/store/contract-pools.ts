/**
 * Store contract for issue 5 part 2: pools with usage, operator changes (clear, mark) in one transaction,
 * note-only writes, and the previous-run lookup of depends_on_past.
 */
import { describe, expect, test } from "bun:test";
import { ConflictError, IllegalTransitionError, type TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";

const T0 = new Date("2026-01-01T00:00:00.000Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

async function dagOf(store: Store) {
  const spec = parseDagSpec({
    dag_id: "pl",
    tasks: [
      { task_id: "a", operator: "bash", bash_command: "true", pool: "gpu", pool_slots: 2 },
      { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
    ],
  });
  return store.upsertDag("default", { spec, fileloc: "/dags/pl.json", pausedOnCreate: false, now: T0 });
}

async function runOf(store: Store, runId: string, logicalDate: Date | null) {
  const dag = await dagOf(store);
  const run = await store.createDagRun({
    team: "default",
    dag_id: "pl",
    run_id: runId,
    run_type: "scheduled",
    logical_date: logicalDate,
    data_interval_start: null,
    data_interval_end: null,
    conf: {},
    version_id: dag.version_id,
    queued_at: T0,
    tasks: dag.spec.tasks.map((t) => ({
      task_id: t.task_id,
      operator: t.operator,
      max_tries: 0,
      pool: t.pool,
      pool_slots: t.pool_slots,
      priority_weight: 1,
    })),
  });
  const ti = async (taskId: string) => (await store.getTaskInstance("default", "pl", runId, taskId))!;
  return { run, ti };
}

async function drive(
  store: Store,
  ti: TaskInstanceRecord,
  path: ("scheduled" | "queued" | "running" | "success" | "failed" | "deferred")[],
) {
  let from = ti.state;
  for (const to of path) {
    expect(
      await store.applyTransitions(
        [{ id: ti.id, from: [from], to, patch: to === "running" ? { hostname: "w1", start_date: at(1) } : {} }],
        at(1),
      ),
    ).toEqual([true]);
    from = to;
  }
}

export function poolsContract(getStore: () => Store): void {
  describe("pools", () => {
    test("default_pool exists with 128 slots; pools are created, read, updated and deleted", async () => {
      const store = getStore();
      const dflt = {
        team: "default",
        name: "default_pool",
        slots: 128,
        description: "Default pool",
        include_deferred: false,
        running_slots: 0,
        queued_slots: 0,
        scheduled_slots: 0,
        deferred_slots: 0,
      };
      expect(await store.listPools("default")).toEqual({ items: [dflt], total: 1 });
      const gpu = await store.createPool("default", { name: "gpu", slots: 2, description: null, include_deferred: true });
      expect(gpu).toEqual({ ...dflt, name: "gpu", slots: 2, description: null, include_deferred: true });
      await expect(store.createPool("default", { name: "gpu", slots: 1, description: null, include_deferred: false })).rejects.toThrow(
        new ConflictError("The Pool with name: `gpu` already exists"),
      );
      expect(await store.updatePool("default", "gpu", { slots: 3, description: "cards" })).toMatchObject({
        slots: 3,
        description: "cards",
        include_deferred: true,
      });
      expect(await store.updatePool("default", "gpu", {})).toMatchObject({ slots: 3 });
      expect(await store.updatePool("default", "nope", { slots: 3 })).toBeNull();
      expect((await store.listPools("default", { order_by: "-name" })).items.map((p) => p.name)).toEqual(["gpu", "default_pool"]);
      expect((await store.listPools("default", { name_pattern: "%GP%" })).items.map((p) => p.name)).toEqual(["gpu"]);
      expect(await store.deletePool("default", "gpu")).toBe(true);
      expect(await store.deletePool("default", "gpu")).toBe(false);
      expect(await store.getPool("default", "gpu")).toBeNull();
    });

    test("usage sums pool_slots of running, queued and scheduled task instances per pool; the scheduler's read, of running and queued", async () => {
      const store = getStore();
      await store.createPool("default", { name: "gpu", slots: 4, description: null, include_deferred: false });
      const r1 = await runOf(store, "r1", null);
      const r2 = await runOf(store, "r2", null);
      await drive(store, await r1.ti("a"), ["scheduled", "queued", "running"]);
      await drive(store, await r2.ti("a"), ["scheduled"]);
      await drive(store, await r1.ti("b"), ["scheduled", "queued"]);
      const usage = Object.fromEntries((await store.listPoolUsage()).map((p) => [p.name, [p.slots, p.running_slots, p.queued_slots]]));
      expect(usage).toEqual({ default_pool: [128, 0, 1], gpu: [4, 2, 0] });
      expect(await store.getPool("default", "gpu")).toMatchObject({ team: "default", running_slots: 2, scheduled_slots: 2 });
    });

    test("deferred task instances' slots: the scheduler's reads count them in pools with include_deferred, the API's in all", async () => {
      const store = getStore();
      await store.createPool("default", { name: "gpu", slots: 4, description: null, include_deferred: true });
      const r1 = await runOf(store, "r1", null);
      const r2 = await runOf(store, "r2", null);
      await drive(store, await r1.ti("a"), ["scheduled", "deferred"]);
      await drive(store, await r2.ti("a"), ["scheduled", "queued"]);
      await drive(store, await r1.ti("b"), ["scheduled", "deferred"]);
      const fields = (p: {
        name: string;
        include_deferred: boolean;
        running_slots: number;
        queued_slots: number;
        deferred_slots: number;
      }) => [p.name, p.include_deferred, p.running_slots, p.queued_slots, p.deferred_slots];
      // The scheduler's reads: deferred slots of the pools that count them (default_pool's sensor holds none).
      const expected = [
        ["default_pool", false, 0, 0, 0],
        ["gpu", true, 0, 2, 2],
      ];
      expect((await store.listPoolUsage()).map(fields)).toEqual(expected);
      // The tick's capacity read carries them too (one read), and a deferred sensor is not an active task instance.
      const tick = await store.loadTickReads([], []);
      expect(tick.pools.map(fields)).toEqual(expected);
      expect(tick.active.byDag.get("default/pl")).toBe(1);
      expect(await store.countActiveTaskInstances()).toEqual(tick.active);
      expect(await store.getPool("default", "gpu")).toMatchObject({ queued_slots: 2, deferred_slots: 2, include_deferred: true });
      // The API's reads answer every pool's deferred slots, as Airflow's deferred_slots does.
      expect((await store.listPools("default")).items.map((p) => p.deferred_slots)).toEqual([1, 2]);
    });
  });

  describe("operator changes (clear, mark)", () => {
    test("a clear resets the task instance onto its new try, deletes its XComs, and requeues the run, in one call", async () => {
      const store = getStore();
      const { run, ti } = await runOf(store, "r1", null);
      const a = await ti("a");
      await drive(store, a, ["scheduled", "queued", "running", "failed"]);
      await store.setDagRunState(run.id, ["queued"], "failed", at(2));
      await store.setXCom({ team: "default", dag_id: "pl", run_id: "r1", task_id: "a", key: "k" }, 1, at(2));
      await store.setXCom({ team: "default", dag_id: "pl", run_id: "r1", task_id: "b", key: "k" }, 2, at(2));
      const done = await store.applyOperatorChange(
        {
          clears: [
            { id: a.id, from: "failed", from_try: 1, try_number: 2, max_tries: 1 },
            { id: a.id, from: "failed", from_try: 1, try_number: 2, max_tries: 1 }, // already applied: loses
          ],
          runs: [{ id: run.id, from: ["success", "failed"], to: "queued" }],
        },
        at(10),
      );
      expect(done).toEqual({ transitions: [], clears: [true, false], runs: [true], user_notes: [] });
      expect(await ti("a")).toMatchObject({
        state: "none",
        try_number: 2,
        max_tries: 1,
        hostname: null,
        start_date: null,
        end_date: null,
        updated_at: at(10),
      });
      expect(await store.getXCom({ team: "default", dag_id: "pl", run_id: "r1", task_id: "a", key: "k" })).toBeNull();
      expect(await store.getXCom({ team: "default", dag_id: "pl", run_id: "r1", task_id: "b", key: "k" })).not.toBeNull();
      expect(await store.getDagRunById(run.id)).toMatchObject({ state: "queued", queued_at: at(10), start_date: null, end_date: null });
    });

    test("a mark applies transitions and the run change; a run re-marked into its own state keeps its dates", async () => {
      const store = getStore();
      const { run, ti } = await runOf(store, "r1", null);
      const a = await ti("a");
      await drive(store, a, ["scheduled", "queued", "running"]);
      const done = await store.applyOperatorChange(
        {
          transitions: [{ id: a.id, from: ["running"], to: "failed", try_number: 1, patch: { end_date: at(5) } }],
          runs: [{ id: run.id, from: ["queued"], to: "failed", note: "ops" }],
        },
        at(5),
      );
      expect(done).toEqual({ transitions: [true], clears: [], runs: [true], user_notes: [] });
      expect(await store.getDagRunById(run.id)).toMatchObject({ state: "failed", end_date: at(5), note: "ops" });
      await store.applyOperatorChange({ runs: [{ id: run.id, from: ["failed"], to: "failed", note: "later" }] }, at(50));
      expect(await store.getDagRunById(run.id)).toMatchObject({ state: "failed", end_date: at(5), note: "later" });
    });

    test("an illegal task-instance change is refused and nothing is written", async () => {
      const store = getStore();
      const { run, ti } = await runOf(store, "r1", null);
      const a = await ti("a");
      await expect(
        store.applyOperatorChange(
          { transitions: [{ id: a.id, from: ["none"], to: "running" }], runs: [{ id: run.id, from: ["queued"], to: "failed" }] },
          at(1),
        ),
      ).rejects.toThrow(IllegalTransitionError);
      expect((await store.getDagRunById(run.id))!.state).toBe("queued");
    });

    test("note-only writes apply only while the task instance is in the state read, and leave updated_at alone", async () => {
      const store = getStore();
      const { ti } = await runOf(store, "r1", null);
      const a = await ti("a");
      expect(
        await store.setTaskInstanceNotes([
          { id: a.id, state: "none", note: "waiting" },
          { id: a.id, state: "scheduled", note: "nope" },
        ]),
      ).toEqual([true, false]);
      expect(await ti("a")).toMatchObject({ note: "waiting", updated_at: a.updated_at });
      expect(await store.setTaskInstanceNotes([])).toEqual([]);
    });
  });

  describe("depends_on_past: previous run states", () => {
    test("the previous run is the latest earlier logical_date of the same DAG; none for the first run or a run without logical_date", async () => {
      const store = getStore();
      const jan = await runOf(store, "jan", new Date("2026-01-01T00:00:00Z"));
      const feb = await runOf(store, "feb", new Date("2026-02-01T00:00:00Z"));
      const mar = await runOf(store, "mar", new Date("2026-03-01T00:00:00Z"));
      const manual = await runOf(store, "manual", null);
      await drive(store, await feb.ti("a"), ["scheduled", "queued", "running", "failed"]);
      const res = await store.listPreviousRunStates([mar.run.id, jan.run.id, manual.run.id, feb.run.id, 999]);
      expect(res.map((r) => [r.dag_run_id, r.previous?.run_id ?? null, r.previous ? Object.fromEntries(r.previous.states) : null])).toEqual(
        [
          [mar.run.id, "feb", { a: "failed", b: "none" }],
          [jan.run.id, null, null],
          [manual.run.id, null, null],
          [feb.run.id, "jan", { a: "none", b: "none" }],
          [999, null, null],
        ],
      );
      expect(await store.listPreviousRunStates([])).toEqual([]);
    });
  });
}
