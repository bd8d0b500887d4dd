/**
 * Store contract for the dates a backfill (re)runs: its dry run (backfillDryRun, the API's POST backfills/dry_run)
 * and Store.createBackfill decide on the same store read (latestRunStates) and must agree for each
 * reprocess_behavior. The dry run used to pick each date's latest run in JavaScript while createBackfill did it in
 * SQL; the cases below are where the two could drift: several runs at one date, one never started (it counts as
 * the earliest), two started at the same time (the higher id is the latest).
 */
import { describe, expect, test } from "bun:test";
import type { DagRunState, ReprocessBehavior } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { backfillDryRun, buildDagRun, planBackfill } from "../../src/scheduler";
import type { Store } from "../../src/store";

const NOW = new Date("2026-01-20T12:00:00.000Z");
const day = (d: number) => new Date(Date.UTC(2026, 0, d));
const at = (s: number) => new Date(NOW.getTime() - 86_400_000 + s * 1000);

/**
 * The runs already at each date (January 2026), each as the state it ends in, in the order they are created, and
 * when it started (undefined: never started). Day 7 has none.
 */
const EXISTING: Record<number, { state: DagRunState; started?: number }[]> = {
  1: [{ state: "success", started: 1 }],
  2: [{ state: "failed", started: 1 }],
  3: [{ state: "running", started: 1 }],
  4: [{ state: "queued" }],
  // Started last wins over an older failure and over a later-created run that never started.
  5: [{ state: "failed", started: 10 }, { state: "success", started: 20 }, { state: "queued" }],
  // Started together: the higher id wins.
  6: [
    { state: "success", started: 30 },
    { state: "failed", started: 30 },
  ],
};

/** What each behaviour (re)runs, by day: queued and running runs are always in flight (Airflow). */
const EXPECTED: Record<ReprocessBehavior, number[]> = {
  none: [7],
  failed: [2, 6, 7],
  completed: [1, 2, 5, 6, 7],
};

export function backfillDatesContract(getStore: () => Store): void {
  describe("backfill dates: the dry run and the backfill agree", () => {
    /** A daily DAG `dagId` with EXISTING's runs, and a backfill request over days 1..7. */
    async function dagWithRuns(store: Store, dagId: string) {
      const spec = parseDagSpec({
        dag_id: dagId,
        schedule: "@daily",
        start_date: "2025-12-01T00:00:00Z",
        tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
      });
      const dag = await store.upsertDag("default", { spec, fileloc: `/dags/${dagId}.json`, pausedOnCreate: false, now: NOW });
      for (const [d, runs] of Object.entries(EXISTING))
        for (const [i, r] of runs.entries()) {
          const run = await store.createDagRun(
            buildDagRun(dag, { run_id: `manual_${d}_${i}`, run_type: "manual", logical_date: day(Number(d)) }, NOW),
          );
          if (r.started === undefined) continue;
          expect(await store.setDagRunState(run.id, ["queued"], "running", at(r.started))).toBe(true);
          if (r.state !== "running") expect(await store.setDagRunState(run.id, ["running"], r.state, at(r.started + 1))).toBe(true);
        }
      return dag;
    }

    test("latestRunStates reads each date's latest run: started last, a run never started the earliest, then the higher id", async () => {
      const store = getStore();
      const dag = await dagWithRuns(store, "latest");
      const states = await store.latestRunStates("default", "latest", [1, 2, 3, 4, 5, 6, 7].map(day));
      expect(Object.fromEntries([...states].map(([ms, s]) => [new Date(ms).getUTCDate(), s]))).toEqual({
        1: "success",
        2: "failed",
        3: "running",
        4: "queued",
        5: "success",
        6: "failed",
      });
      expect(await store.latestRunStates("default", "latest", [])).toEqual(new Map());
      // Another team's DAG of the same name is not read.
      expect(await store.latestRunStates("other", dag.dag_id, [day(1)])).toEqual(new Map());
    });

    for (const behavior of ["none", "failed", "completed"] as const)
      test(`reprocess_behavior ${behavior}: the dry run lists the dates the backfill creates`, async () => {
        const store = getStore();
        const dag = await dagWithRuns(store, `bf_${behavior}`);
        const plan = planBackfill(
          dag,
          {
            dag_id: dag.dag_id,
            from_date: day(1),
            to_date: day(7),
            run_backwards: false,
            dag_run_conf: null,
            reprocess_behavior: behavior,
            max_active_runs: 10,
          },
          NOW,
        );
        const dry = await backfillDryRun(store, plan);
        const { created, skipped } = await store.createBackfill(plan);
        const createdDates = await Promise.all(created.map(async (id) => (await store.getDagRunById(id))!.logical_date!));
        expect(createdDates).toEqual(dry);
        expect(dry.map((d) => d.getUTCDate())).toEqual(EXPECTED[behavior]);
        expect(skipped.length + created.length).toBe(7);
      });
  });
}
