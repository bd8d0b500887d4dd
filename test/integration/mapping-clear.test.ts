/**
 * Clearing a mapped task with its upstream re-expands it, on SQLite and Postgres (Airflow's behaviour): the
 * rerun upstream returns a longer list and the mapped task gets the new instances (new task instances: try 1);
 * then a shorter one and the extra instances become `removed` (their tries kept), the downstream's reduce reads
 * only the live ones, and the run succeeds; a longer one again brings the removed ones back on their next try. Clearing one instance reruns just that one, with the other instances' XComs kept.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { guardedStore, openStore, type Store } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";
import type { DagRunRecord, TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { SchedulerLoop } from "../../src/scheduler/loop";
import { buildDagRun } from "../../src/scheduler/trigger";
import { clearsForRun, requeueAfterClear } from "../../src/scheduler";
import { silentLogger } from "../../src/observability";
import { FakeClock } from "../support/clock";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";

function suite(makeStore: () => Promise<Store>) {
  let store: Store;
  beforeEach(async () => {
    store = await makeStore();
    await store.migrate();
  });
  afterEach(async () => store.close());

  const spec = parseDagSpec({
    dag_id: "remap",
    tasks: [
      { task_id: "make", operator: "bash", bash_command: "true" },
      { task_id: "each", operator: "bash", bash_command: "true", expand: { x: { xcom: "make" } } },
      { task_id: "total", operator: "bash", bash_command: "true", upstream: ["each"] },
    ],
  });

  /** A loop whose agent succeeds every try at once: `make` pushes `list.value`, `each` pushes x * 10 of its own item. */
  function harness(clock: FakeClock, list: { value: number[] }) {
    const reports: Promise<void>[] = [];
    let loop: SchedulerLoop;
    const dispatcher = {
      async dispatch(ti: TaskInstanceRecord) {
        reports.push(
          (async () => {
            const now = clock.now();
            const at = { id: ti.id, try_number: ti.try_number };
            await store.applyTransitions([{ ...at, from: ["queued"], to: "running", patch: { start_date: now } }], now);
            const key = {
              team: ti.team,
              dag_id: ti.dag_id,
              run_id: ti.run_id,
              task_id: ti.task_id,
              map_index: ti.map_index,
              key: "return_value",
            };
            if (ti.task_id === "make") await store.setXCom(key, list.value, now);
            if (ti.task_id === "each") await store.setXCom(key, list.value[ti.map_index]! * 10, now);
            await store.applyTransitions([{ ...at, from: ["running"], to: "success", patch: { end_date: now } }], now);
            loop.wake(ti.dag_run_id);
          })(),
        );
      },
    };
    loop = new SchedulerLoop({ store, dispatcher, logger: silentLogger, sweepIntervalMs: 60_000, parallelism: 64, clock });
    return {
      async drive(runId: number) {
        loop.start();
        loop.wake(runId);
        for (;;) {
          await loop.idle();
          if (reports.length) await Promise.all(reports.splice(0));
          else if (!clock.advance(0)) break;
        }
        await loop.stop();
      },
    };
  }

  async function clear(run: DagRunRecord, pick: (ti: TaskInstanceRecord) => boolean, clock: FakeClock) {
    const [snap] = await store.loadRunSnapshots([run.id]);
    const clears = clearsForRun(spec, snap!.tis, snap!.tis.filter(pick));
    const current = (await store.getDagRunById(run.id))!;
    await store.applyOperatorChange({ clears, runs: [requeueAfterClear(current)!] }, clock.now());
  }

  const view = async (run: DagRunRecord) => {
    const tis = (await store.listTaskInstances("default", "remap", run.run_id)).items;
    const each = tis.filter((t) => t.task_id === "each").sort((a, b) => a.map_index - b.map_index);
    const reduce = await store.listMappedXComs({
      team: "default",
      dag_id: "remap",
      run_id: run.run_id,
      task_id: "each",
      key: "return_value",
    });
    return {
      run: (await store.getDagRunById(run.id))!.state,
      each: each.map((t) => `${t.map_index}:${t.state}:try${t.try_number}`),
      reduce: reduce.map((x) => x.value),
    };
  };

  /** Per instance of `each` (by map_index), the numbers of the tries it ran: its finished ones and its current one. */
  const triesRun = async (run: DagRunRecord) => {
    const tis = (await store.listTaskInstances("default", "remap", run.run_id)).items;
    const each = tis.filter((t) => t.task_id === "each").sort((a, b) => a.map_index - b.map_index);
    return Promise.all(each.map(async (t) => [...(await store.listTaskInstanceTries(t.id)).map((h) => h.try_number), t.try_number]));
  };

  test("cleared with its upstream, a mapped task expands again to the new list's length: longer, shorter, longer again", async () => {
    const clock = new FakeClock();
    const list = { value: [1, 2, 3] };
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/r.json", pausedOnCreate: false, now: clock.now() });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, clock.now()));
    await harness(clock, list).drive(run.id);
    expect(await view(run)).toEqual({ run: "success", each: ["0:success:try1", "1:success:try1", "2:success:try1"], reduce: [10, 20, 30] });

    list.value = [1, 2, 3, 4, 5];
    await clear(run, () => true, clock);
    await harness(clock, list).drive(run.id);
    // 3 and 4 are new task instances (Airflow creates them): their first try is try 1, not instance 0's next.
    expect(await view(run)).toEqual({
      run: "success",
      each: ["0:success:try2", "1:success:try2", "2:success:try2", "3:success:try1", "4:success:try1"],
      reduce: [10, 20, 30, 40, 50],
    });

    list.value = [7, 8];
    await clear(run, () => true, clock);
    await harness(clock, list).drive(run.id);
    // Removed as they were cleared: each on the try it would run next, as every cleared instance.
    expect(await view(run)).toEqual({
      run: "success",
      each: ["0:success:try3", "1:success:try3", "2:removed:try3", "3:removed:try2", "4:removed:try2"],
      reduce: [70, 80],
    });

    // The same clear again, the list unchanged (found by a tester: the removed instances were cleared to none,
    // launched with no argument, failed, and failed the run): they stay removed.
    await clear(run, () => true, clock);
    await harness(clock, list).drive(run.id);
    expect(await view(run)).toEqual({
      run: "success",
      each: ["0:success:try4", "1:success:try4", "2:removed:try3", "3:removed:try2", "4:removed:try2"],
      reduce: [70, 80],
    });

    // The list grows back: the removed instances come back as themselves (Airflow restores them) and run their next
    // try, one after the last they ran; no instance has a try it never ran, and none skips one.
    list.value = [1, 2, 3, 4, 5];
    await clear(run, () => true, clock);
    await harness(clock, list).drive(run.id);
    expect(await view(run)).toEqual({
      run: "success",
      each: ["0:success:try5", "1:success:try5", "2:success:try3", "3:success:try2", "4:success:try2"],
      reduce: [10, 20, 30, 40, 50],
    });
    expect(await triesRun(run)).toEqual([
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5],
      [1, 2, 3],
      [1, 2],
      [1, 2],
    ]);
  });

  test("clearing one instance reruns only it, and the others keep their XComs", async () => {
    const clock = new FakeClock();
    const list = { value: [1, 2, 3] };
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/r.json", pausedOnCreate: false, now: clock.now() });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, clock.now()));
    await harness(clock, list).drive(run.id);
    await clear(run, (ti) => (ti.task_id === "each" && ti.map_index === 1) || ti.task_id === "total", clock);
    expect((await view(run)).reduce).toEqual([10, 30]);
    await harness(clock, list).drive(run.id);
    expect(await view(run)).toEqual({ run: "success", each: ["0:success:try1", "1:success:try2", "2:success:try1"], reduce: [10, 20, 30] });
  });
}

describe("re-expanding a cleared mapped task: sqlite", () => suite(async () => openStore("sqlite::memory:")));

describePg("re-expanding a cleared mapped task: postgres", () => {
  const schemas = freshSchemas();
  suite(async () => guardedStore(new PostgresStore({ url: pgUrl(), schema: schemas.next(), max: 4 })));
});
