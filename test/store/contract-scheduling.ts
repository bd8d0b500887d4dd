/** Store contract for scheduling (issue 5 part 1): the cron scheduler's DAG read, run gates, backfills. */
import { describe, expect, test } from "bun:test";
import { ConflictError, type DagSpec } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { DagRecord, NewBackfill } from "../../src/domain";
import { backfillSkips } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { newRun, T0 } from "./contract-fixtures";

const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);

function spec(dagId: string, extra: Record<string, unknown> = {}): DagSpec {
  return parseDagSpec({ dag_id: dagId, tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }], ...extra });
}

/** A backfill of `days`; what it skips follows scheduler/backfill.ts's rule for its reprocess behaviour. */
function backfill(dag: DagRecord, days: number[], over: Partial<NewBackfill> = {}): NewBackfill {
  return {
    skip_existing: backfillSkips(over.reprocess_behavior ?? "none"),
    team: dag.team,
    dag_id: dag.dag_id,
    from_date: day(days[0]!),
    to_date: day(days[days.length - 1]!),
    run_backwards: false,
    dag_run_conf: { a: 1 },
    reprocess_behavior: "none",
    max_active_runs: 2,
    now: day(30),
    runs: days.map((n) =>
      newRun(dag, `backfill__${day(n).toISOString()}`, {
        run_type: "backfill",
        logical_date: day(n),
        data_interval_start: day(n),
        data_interval_end: day(n + 1),
      }),
    ),
    ...over,
  };
}

export function schedulingContract(getStore: () => Store): void {
  describe("scheduling", () => {
    const upsert = (id: string, extra: Record<string, unknown> = {}, paused = false) =>
      getStore().upsertDag("default", { spec: spec(id, extra), fileloc: `/dags/${id}.json`, pausedOnCreate: paused, now: T0 });

    test("listScheduledDags: active, unpaused, scheduled DAGs with their latest scheduled logical date and active runs", async () => {
      const store = getStore();
      const daily = await upsert("daily", { schedule: "@daily" });
      await upsert("manual_only");
      await upsert("paused", { schedule: "@daily" }, true);
      await upsert("gone", { schedule: "@hourly" });
      await store.deactivateDagsOfFile("default", "/dags/gone.json", []);
      await store.createDagRun(newRun(daily, "scheduled__1", { run_type: "scheduled", logical_date: day(1) }));
      const r2 = await store.createDagRun(newRun(daily, "scheduled__2", { run_type: "scheduled", logical_date: day(2) }));
      await store.createDagRun(newRun(daily, "manual__9", { logical_date: day(9) })); // manual: not the schedule's
      await store.setDagRunState(r2.id, ["queued"], "success", T0);
      const list = await store.listScheduledDags();
      expect(list.map((s) => [s.dag.dag_id, s.latest_scheduled_logical_date, s.active_runs])).toEqual([["daily", day(2), 2]]);
      expect(list[0]!.dag.spec.schedule).toBe("@daily");
    });

    test("listScheduledDags follows a DAG whose new version gains or loses its schedule, sweep after sweep", async () => {
      const store = getStore();
      const sweep = async () => (await store.listScheduledDags()).map((s) => [s.dag.dag_id, s.dag.version_id, s.dag.spec.schedule]);
      const v1 = await upsert("flip");
      await upsert("steady", { schedule: "@hourly" });
      expect(await sweep()).toEqual([["steady", expect.any(Number), "@hourly"]]);
      const v2 = await upsert("flip", { schedule: "@daily" });
      expect(v2.version_id).not.toBe(v1.version_id);
      expect(await sweep()).toEqual([
        ["flip", v2.version_id, "@daily"],
        ["steady", expect.any(Number), "@hourly"],
      ]);
      await upsert("flip", { description: "manual again" });
      expect((await sweep()).map(([id]) => id)).toEqual(["steady"]);
      // Back to the first spec: the first version again, no longer scheduled.
      expect((await upsert("flip")).version_id).toBe(v1.version_id);
      expect((await sweep()).map(([id]) => id)).toEqual(["steady"]);
      await upsert("flip", { schedule: "@daily" });
      await store.setDagPaused("default", "steady", true);
      expect(await sweep()).toEqual([["flip", v2.version_id, "@daily"]]);
      await store.setDagPaused("default", "steady", false);
      expect((await sweep()).map(([id]) => id)).toEqual(["flip", "steady"]);
    });

    test("loadRunGates: per run state, backfill and a queued run's run_after, per DAG pause, max_active_runs and running runs", async () => {
      const store = getStore();
      const d = await upsert("etl", { max_active_runs: 3 });
      const p = await upsert("held", {}, true);
      const later = new Date(T0.getTime() + 3_600_000);
      const running = await store.createDagRun({ ...newRun(d, "r1"), run_after: T0 });
      await store.setDagRunState(running.id, ["queued"], "running", T0);
      const queued = await store.createDagRun({ ...newRun(d, "r2"), run_after: later });
      expect(queued.run_after).toEqual(later);
      expect((await store.getDagRunById(queued.id))?.run_after).toEqual(later);
      const done = await store.createDagRun(newRun(d, "r3"));
      await store.setDagRunState(done.id, ["queued"], "success", T0);
      const other = await store.createDagRun(newRun(p, "p1"));
      const { created, backfill: b } = await store.createBackfill(backfill(d, [1, 2]));
      await store.setDagRunState(created[0]!, ["queued"], "running", T0);

      const gates = await store.loadRunGates([running.id, queued.id, done.id, other.id, ...created, 99999]);
      expect(gates.runs).toEqual([
        { id: running.id, team: "default", dag_id: "etl", state: "running", backfill_id: null, run_after: null },
        { id: queued.id, team: "default", dag_id: "etl", state: "queued", backfill_id: null, run_after: later },
        { id: other.id, team: "default", dag_id: "held", state: "queued", backfill_id: null, run_after: null },
        { id: created[0]!, team: "default", dag_id: "etl", state: "running", backfill_id: b.id, run_after: null },
        { id: created[1]!, team: "default", dag_id: "etl", state: "queued", backfill_id: b.id, run_after: null },
      ]);
      // The backfill's running run counts for the backfill, not the DAG.
      expect(gates.dags.get("default/etl")).toEqual({ is_paused: false, max_active_runs: 3, running: 1 });
      expect(gates.dags.get("default/held")).toEqual({ is_paused: true, max_active_runs: 16, running: 0 });
      expect(gates.backfills.get(b.id)).toEqual({ is_paused: false, max_active_runs: 2, running: 1 });
      expect((await store.loadRunGates([])).runs).toEqual([]);
    });

    test("loadRunGates: DAGs asked for besides the runs come with their gates alone", async () => {
      const store = getStore();
      const d = await upsert("etl", { max_active_runs: 3 });
      await upsert("held", {}, true);
      const running = await store.createDagRun(newRun(d, "r1"));
      await store.setDagRunState(running.id, ["queued"], "running", T0);
      const extra = [
        { team: "default", dag_id: "held" },
        { team: "default", dag_id: "etl" },
        { team: "default", dag_id: "nowhere" },
      ];
      // Only DAGs: no runs, each known DAG's gate, with its running runs counted as for a run's DAG.
      const alone = await store.loadRunGates([], extra);
      expect(alone.runs).toEqual([]);
      expect(alone.backfills.size).toBe(0);
      expect([...alone.dags.keys()].sort()).toEqual(["default/etl", "default/held"]);
      expect(alone.dags.get("default/held")).toEqual({ is_paused: true, max_active_runs: 16, running: 0 });
      expect(alone.dags.get("default/etl")).toEqual({ is_paused: false, max_active_runs: 3, running: 1 });
      // With runs: the runs as without, their DAGs and the others once each.
      const both = await store.loadRunGates([running.id], extra);
      expect(both.runs.map((r) => r.id)).toEqual([running.id]);
      expect(both).toEqual({ ...(await store.loadRunGates([running.id])), dags: alone.dags });
    });

    test("createBackfill creates queued runs in order with their task instances; a second open backfill conflicts", async () => {
      const store = getStore();
      const d = await upsert("etl", { schedule: "@daily" });
      const { backfill: b, created, skipped } = await store.createBackfill(backfill(d, [3, 2, 1], { run_backwards: true }));
      expect(b).toEqual({
        id: b.id,
        team: "default",
        dag_id: "etl",
        from_date: day(3),
        to_date: day(1),
        run_backwards: true,
        dag_run_conf: { a: 1 },
        is_paused: false,
        reprocess_behavior: "none",
        max_active_runs: 2,
        created_at: day(30),
        completed_at: null,
        updated_at: day(30),
      });
      expect(skipped).toEqual([]);
      const runs = await Promise.all(created.map((id) => store.getDagRunById(id)));
      expect(runs.map((r) => [r!.run_type, r!.state, r!.logical_date])).toEqual([
        ["backfill", "queued", day(3)],
        ["backfill", "queued", day(2)],
        ["backfill", "queued", day(1)],
      ]);
      expect((await store.listTaskInstances("default", "etl", runs[0]!.run_id)).items.map((t) => t.state)).toEqual(["none"]);
      await expect(store.createBackfill(backfill(d, [5]))).rejects.toThrow(ConflictError);
      await expect(store.createBackfill(backfill(d, [5]))).rejects.toThrow(
        `There is already a running backfill for dag etl (backfill ${b.id})`,
      );
    });

    test("reprocess behaviour decides what happens to slots that already have runs", async () => {
      const store = getStore();
      const d = await upsert("etl", { schedule: "@daily" });
      const mk = async (n: number, state: "success" | "failed" | "running" | null) => {
        const r = await store.createDagRun(newRun(d, `scheduled__${n}`, { run_type: "scheduled", logical_date: day(n) }));
        if (state === "running") await store.setDagRunState(r.id, ["queued"], "running", T0);
        else if (state) await store.setDagRunState(r.id, ["queued"], state, T0);
      };
      await mk(1, "success");
      await mk(2, "failed");
      await mk(3, "running");
      const cases = [
        {
          behavior: "none",
          created: [4],
          skipped: [
            [1, "already exists"],
            [2, "already exists"],
            [3, "in flight"],
          ],
        },
        {
          behavior: "failed",
          created: [2, 4],
          skipped: [
            [1, "already exists"],
            [3, "in flight"],
          ],
        },
        { behavior: "completed", created: [1, 2, 4], skipped: [[3, "in flight"]] },
      ] as const;
      for (const c of cases) {
        const res = await store.createBackfill(backfill(d, [1, 2, 3, 4], { reprocess_behavior: c.behavior }));
        const runs = await Promise.all(res.created.map((id) => store.getDagRunById(id)));
        expect({ behavior: c.behavior, created: runs.map((r) => r!.logical_date!.getTime()) }).toEqual({
          behavior: c.behavior,
          created: c.created.map((n) => day(n).getTime()),
        });
        // Day 4 had no run before the first backfill; later backfills see that backfill's run (in flight).
        expect(
          res.skipped.filter((s) => s.logical_date.getTime() !== day(4).getTime()).map((s) => [s.logical_date.getTime(), s.reason]),
        ).toEqual(c.skipped.map(([n, why]) => [day(n).getTime(), why]));
        await store.cancelBackfill("default", res.backfill.id, day(31));
      }
    });

    test("a reprocessed slot whose run id is taken gets the backfill id as suffix", async () => {
      const store = getStore();
      const d = await upsert("etl", { schedule: "@daily" });
      const first = await store.createBackfill(backfill(d, [1]));
      await store.setDagRunState(first.created[0]!, ["queued"], "failed", T0);
      await store.completeFinishedBackfills(day(31));
      const second = await store.createBackfill(backfill(d, [1], { reprocess_behavior: "failed" }));
      const run = await store.getDagRunById(second.created[0]!);
      expect(run!.run_id).toBe(`backfill__${day(1).toISOString()}_${second.backfill.id}`);
    });

    test("pause, list, cancel (fails queued runs only) and completion", async () => {
      const store = getStore();
      const d = await upsert("etl", { schedule: "@daily" });
      const { backfill: b, created } = await store.createBackfill(backfill(d, [1, 2, 3]));
      expect((await store.setBackfillPaused("default", b.id, true, day(31)))!.is_paused).toBe(true);
      expect((await store.getBackfill("default", b.id))!.updated_at).toEqual(day(31));
      expect(await store.setBackfillPaused("default", 12345, true, day(31))).toBeNull();
      await store.setDagRunState(created[0]!, ["queued"], "running", T0);
      expect(await store.completeFinishedBackfills(day(32))).toEqual([]);

      const cancelled = await store.cancelBackfill("default", b.id, day(33));
      expect(cancelled).toMatchObject({ is_paused: true, completed_at: day(33), updated_at: day(33) });
      const states = await Promise.all(created.map(async (id) => (await store.getDagRunById(id))!));
      expect(states.map((r) => [r.state, r.note])).toEqual([
        ["running", null],
        ["failed", `backfill ${b.id} cancelled`],
        ["failed", `backfill ${b.id} cancelled`],
      ]);
      expect(await store.cancelBackfill("default", 12345, day(33))).toBeNull();

      const other = await upsert("other", { schedule: "@daily" });
      const { backfill: b2, created: c2 } = await store.createBackfill(backfill(other, [1]));
      expect(await store.completeFinishedBackfills(day(34))).toEqual([]);
      await store.setDagRunState(c2[0]!, ["queued"], "success", T0);
      expect(await store.completeFinishedBackfills(day(35))).toEqual([b2.id]);
      expect((await store.getBackfill("default", b2.id))!.completed_at).toEqual(day(35));

      const page = await store.listBackfills("default", { dag_id: "etl" });
      expect(page.total).toBe(1);
      expect(page.items.map((x) => x.id)).toEqual([b.id]);
      expect((await store.listBackfills("default", { order_by: "-id", limit: 1 })).items.map((x) => x.id)).toEqual([b2.id]);
      expect((await store.listBackfills("default")).total).toBe(2);
    });
  });
}
