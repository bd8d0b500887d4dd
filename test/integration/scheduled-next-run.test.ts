/**
 * What the API says of scheduled runs, against what the scheduler does, through the real loop, store and API
 * with the time set by the test: a DAG's next_dagrun_* (GET /dags, /dags/{id}, /details) name the run the
 * scheduler creates next (catchup or not, the latest scheduled run, start_date/end_date, @once), and a
 * scheduled or backfill run's run_after is when its slot was due (the data interval's end), while it still
 * starts at once.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createApi } from "../../src/api";
import { parseDagSpec } from "../../src/domain/schemas";
import type { SchedulerLoop } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { overriding } from "../../src/store/decorate";
import { type HoldingAgent, holdingLoop } from "../support/holding-agent";
import { forEachStore } from "../support/stores";

let store: Store;
let agent: HoldingAgent;
let clock: Date;
let loop: SchedulerLoop;

const day = (d: string) => `2026-${d}T00:00:00.000Z`;

forEachStore((backend) => {
  beforeEach(async () => {
    clock = new Date("2026-03-01T12:00:00Z");
    ({ store, agent, loop } = await holdingLoop(backend, () => clock, { cron: true }));
  });

  afterEach(async () => {
    await loop.stop();
    await store.close();
  });

  async function addDag(dagId: string, extra: Record<string, unknown>) {
    const spec = parseDagSpec({ dag_id: dagId, tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }], ...extra });
    return store.upsertDag("default", { spec, fileloc: `/dags/${dagId}.json`, pausedOnCreate: false, now: clock });
  }

  /** A full sweep, then the follow-up ticks the running loop would take on its own (it is not started here). */
  async function sweep(): Promise<void> {
    loop.wake();
    for (let i = 0; i < 5; i++) await loop.tick();
  }

  const api = (over: Store = store) =>
    createApi({
      store: over,
      tokens: null,
      version: "test",
      scheduler: { wake: () => {}, health: () => loop.health() },
      now: () => clock,
    });
  const get = async (path: string, over?: Store) => {
    const res = await api(over).request(path);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, any>;
  };
  const NEXT = ["next_dagrun_logical_date", "next_dagrun_data_interval_start", "next_dagrun_data_interval_end", "next_dagrun_run_after"];
  const nextOf = (dag: Record<string, any>) => Object.fromEntries(NEXT.map((k) => [k, dag[k]]));
  /** A DAG's next run as GET /dags shows it; the single DAG and its details show the same. */
  async function nextRun(dagId: string) {
    const listed = (await get("/api/v2/dags")).dags.find((d: any) => d.dag_id === dagId);
    const shown = nextOf(listed);
    expect(nextOf(await get(`/api/v2/dags/${dagId}`))).toEqual(shown);
    expect(nextOf(await get(`/api/v2/dags/${dagId}/details`))).toEqual(shown);
    return shown;
  }
  const slot = (start: string, end: string) => ({
    next_dagrun_logical_date: start,
    next_dagrun_data_interval_start: start,
    next_dagrun_data_interval_end: end,
    next_dagrun_run_after: end,
  });
  const NONE = Object.fromEntries(NEXT.map((k) => [k, null]));

  async function runs(dagId: string) {
    const body = await get(`/api/v2/dags/${dagId}/dagRuns?order_by=logical_date`);
    return (body.dag_runs as Record<string, any>[]).map((r) => ({
      id: r.dag_run_id,
      state: r.state,
      logical_date: r.logical_date,
      data_interval_end: r.data_interval_end,
      run_after: r.run_after,
    }));
  }

  describe("the next run and run_after of scheduled runs", () => {
    test("catchup: the next run shown is the run the scheduler creates next; its runs show run_after = interval end and start at once", async () => {
      await addDag("etl", { schedule: "@daily", start_date: "2026-02-26T00:00:00Z", catchup: true });
      // Nothing created yet: the first slot, due already.
      expect(await nextRun("etl")).toEqual(slot(day("02-26"), day("02-27")));
      await sweep();
      expect(await runs("etl")).toEqual(
        ["02-26", "02-27", "02-28"].map((d, i) => {
          const end = day(["02-27", "02-28", "03-01"][i]!);
          return {
            id: `scheduled__2026-${d}T00:00:00+00:00`,
            state: "running",
            logical_date: day(d),
            data_interval_end: end,
            run_after: end,
          };
        }),
      );
      // Started at once: every run's task was handed to the agent by the same sweep.
      expect(agent.running.map((t) => t.run_id).sort()).toEqual([
        "scheduled__2026-02-26T00:00:00+00:00",
        "scheduled__2026-02-27T00:00:00+00:00",
        "scheduled__2026-02-28T00:00:00+00:00",
      ]);
      // Next: today's interval, due at midnight.
      expect(await nextRun("etl")).toEqual(slot(day("03-01"), day("03-02")));
      clock = new Date(day("03-02"));
      await sweep();
      expect((await runs("etl")).at(-1)).toEqual({
        id: "scheduled__2026-03-01T00:00:00+00:00",
        state: "running",
        logical_date: day("03-01"),
        data_interval_end: day("03-02"),
        run_after: day("03-02"),
      });
      expect(agent.running.map((t) => t.run_id)).toContain("scheduled__2026-03-01T00:00:00+00:00");
      expect(await nextRun("etl")).toEqual(slot(day("03-02"), day("03-03")));
    });

    test("no catchup: the latest complete interval first, then the current one; missed slots are skipped as the scheduler skips them", async () => {
      await addDag("etl", { schedule: "@daily", start_date: "2026-01-01T00:00:00Z", catchup: false });
      expect(await nextRun("etl")).toEqual(slot(day("02-28"), day("03-01")));
      await sweep();
      expect((await runs("etl")).map((r) => [r.logical_date, r.run_after, r.state])).toEqual([[day("02-28"), day("03-01"), "running"]]);
      expect(await nextRun("etl")).toEqual(slot(day("03-01"), day("03-02")));
      clock = new Date("2026-03-05T12:00:00Z"); // four days pass without a sweep
      const shown = await nextRun("etl");
      expect(shown).toEqual(slot(day("03-04"), day("03-05")));
      await sweep();
      expect((await runs("etl")).map((r) => r.logical_date)).toEqual([day("02-28"), shown.next_dagrun_logical_date]);
    });

    test("a DAG at max_active_runs shows the slot waiting for room; cron and timezones keep the scheduler's slots", async () => {
      await addDag("etl", { schedule: "@daily", start_date: "2026-02-27T00:00:00Z", catchup: true, max_active_runs: 1 });
      await addDag("hourly", { schedule: "30 * * * *", timezone: "Europe/Paris", start_date: "2026-02-01T00:00:00Z" });
      await sweep();
      expect((await runs("etl")).map((r) => r.logical_date)).toEqual([day("02-27")]);
      // 02-28's slot is due but waits for room: it is still the next run.
      expect(await nextRun("etl")).toEqual(slot(day("02-28"), day("03-01")));
      expect((await runs("hourly")).map((r) => [r.logical_date, r.run_after])).toEqual([
        ["2026-03-01T10:30:00.000Z", "2026-03-01T11:30:00.000Z"],
      ]);
      expect(await nextRun("hourly")).toEqual(slot("2026-03-01T11:30:00.000Z", "2026-03-01T12:30:00.000Z"));
    });

    test("no next run for a DAG without a schedule, past its end_date, or after its @once run; @once shows its start_date until then", async () => {
      await addDag("manual", {});
      await addDag("ended", { schedule: "@daily", start_date: "2026-01-01T00:00:00Z", end_date: "2026-01-03T00:00:00Z", catchup: true });
      await addDag("once", { schedule: "@once", start_date: "2026-03-02T00:00:00Z" });
      expect(await nextRun("manual")).toEqual(NONE);
      expect(await nextRun("once")).toEqual(slot(day("03-02"), day("03-02")));
      await sweep();
      // ended: its last slot (starting at end_date) was the last run; nothing after it.
      expect((await runs("ended")).map((r) => r.logical_date)).toEqual([day("01-01"), day("01-02"), day("01-03")]);
      expect(await nextRun("ended")).toEqual(NONE);
      clock = new Date("2026-03-02T00:00:01Z");
      await sweep();
      expect((await runs("once")).map((r) => [r.logical_date, r.run_after])).toEqual([[day("03-02"), day("03-02")]]);
      expect(await nextRun("once")).toEqual(NONE);
    });

    test("a page of DAGs reads the latest scheduled runs in one store call", async () => {
      for (const id of ["a", "b", "c", "d"]) await addDag(id, { schedule: "@hourly", start_date: "2026-03-01T00:00:00Z" });
      await addDag("manual", {});
      await sweep();
      const asked: string[][] = [];
      const counting = overriding(store, {
        latestScheduledLogicalDates: (team, dagIds) => (asked.push([...dagIds]), store.latestScheduledLogicalDates(team, dagIds)),
      });
      const { dags } = await get("/api/v2/dags", counting);
      expect(asked).toEqual([["a", "b", "c", "d"]]);
      expect(dags.map((d: any) => [d.dag_id, nextOf(d)])).toEqual([
        ...["a", "b", "c", "d"].map((id) => [id, slot("2026-03-01T12:00:00.000Z", "2026-03-01T13:00:00.000Z")]),
        ["manual", NONE],
      ]);
    });

    test("a backfill's runs show run_after = their interval's end, and start", async () => {
      await addDag("etl", { schedule: "@daily", start_date: "2026-01-01T00:00:00Z", max_active_runs: 5 });
      const res = await api().request("/api/v2/backfills", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dag_id: "etl", from_date: "2026-02-01", to_date: "2026-02-02", max_active_runs: 2 }),
      });
      expect(res.status).toBe(200);
      await sweep();
      const backfill = (await runs("etl")).filter((r) => r.id.startsWith("backfill"));
      expect(backfill.map((r) => [r.logical_date, r.run_after, r.state])).toEqual([
        [day("02-01"), day("02-02"), "running"],
        [day("02-02"), day("02-03"), "running"],
      ]);
    });
  });
});
