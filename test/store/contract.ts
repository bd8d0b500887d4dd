/**
 * The Store contract: every backend (SQLite, Postgres) runs this same suite, so it touches data only
 * through the Store interface. `makeStore` returns a fresh, empty store with the default XCom limit
 * (1 MiB); the suite calls migrate() itself (again, which must be a no-op) and close() after each test.
 *
 * `makeStore` returns the store as openStore does, behind guardedStore: the transition tests prove the guard.
 *
 * @example runStoreContract("sqlite", async () => guardedStore(new SqliteStore({ path: ":memory:" })));
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  ConflictError,
  IllegalTransitionError,
  TooLargeError,
  ValidationError,
  type DagSpec,
  type TaskState,
  type DagRunRecord,
  type NewDagRun,
  type TaskInstanceRecord,
} from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { appendToTryLog } from "../../src/domain";
import type { Store } from "../../src/store";
import { variablesContract } from "./contract-variables";
import { schedulingContract } from "./contract-scheduling";
import { reapersContract } from "./contract-reapers";
import { poolsContract } from "./contract-pools";
import { eventsContract } from "./contract-events";
import { stagingContract } from "./contract-staging";
import { bulkAuditContract } from "./contract-bulk-audit";
import { dagsQueryContract } from "./contract-dags";
import { runListsContract } from "./contract-run-lists";
import { teamsContract } from "./contract-teams";
import { teamsDagsContract } from "./contract-teams-dags";
import { teamsSchedulerContract } from "./contract-teams-scheduler";
import { teamsConfigContract } from "./contract-teams-config";
import { teamsRunsContract } from "./contract-teams-runs";
import { runChangesContract } from "./contract-run-changes";
import { runCreateContract } from "./contract-run-create";
import { inlineBatchesContract } from "./contract-inline-batches";
import { inlineTriesContract } from "./contract-inline-tries";
import { sensorsContract } from "./contract-sensors";
import { runStatesContract } from "./contract-run-states";
import { snapshotsContract } from "./contract-snapshots";
import { tickReadsContract } from "./contract-tick-reads";
import { callbacksContract } from "./contract-callbacks";
import { webhooksContract } from "./contract-webhooks";
import { webhookUpkeepContract } from "./contract-webhook-upkeep";
import { mappingContract } from "./contract-mapping";
import { transitionPairsContract } from "./contract-transition-pairs";
import { sameChangesContract } from "./contract-same-changes";
import { agentTriesContract } from "./contract-agent-tries";
import { userNotesContract } from "./contract-user-notes";
import { backfillDatesContract } from "./contract-backfill-dates";

const T0 = new Date("2026-01-01T00:00:00.000Z");

/**
 * A task instance as the scheduler's reads give it (snapshots, lookups by id): the API's reads (by natural key, lists)
 * add the user's note, which no statement on the scheduler's paths names (contract-user-notes.ts).
 */
function schedulerView(ti: TaskInstanceRecord | null): TaskInstanceRecord | null {
  if (!ti) return ti;
  const { user_note: _userNote, ...rest } = ti;
  return rest;
}
/** T0 plus `s` seconds. */
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function spec(dagId: string, extra: Record<string, unknown> = {}, taskIds = ["extract", "load"]): DagSpec {
  return parseDagSpec({
    dag_id: dagId,
    tags: ["etl"],
    tasks: taskIds.map((id, i) => ({
      task_id: id,
      operator: "bash",
      bash_command: `echo ${id}`,
      upstream: i ? [taskIds[i - 1]] : [],
    })),
    ...extra,
  });
}

function newRun(
  dag: { team: string; dag_id: string; version_id: number; spec: DagSpec },
  runId: string,
  over: Partial<NewDagRun> = {},
): NewDagRun {
  return {
    team: dag.team,
    dag_id: dag.dag_id,
    run_id: runId,
    run_type: "manual",
    logical_date: T0,
    data_interval_start: T0,
    data_interval_end: at(86400),
    conf: { limit: 10, nested: { ok: true } },
    version_id: dag.version_id,
    queued_at: T0,
    tasks: dag.spec.tasks.map((t) => ({
      task_id: t.task_id,
      operator: t.operator,
      max_tries: t.retries,
      pool: t.pool,
      pool_slots: t.pool_slots,
      priority_weight: t.priority_weight,
    })),
    ...over,
  };
}

export function runStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await makeStore();
      await store.migrate();
      await store.migrate(); // must be a no-op
    });
    afterEach(async () => {
      await store.close();
    });

    const dag = (id = "etl", extra: Record<string, unknown> = {}, tasks?: string[]) =>
      store.upsertDag("default", { spec: spec(id, extra, tasks), fileloc: `/dags/${id}.json`, pausedOnCreate: false, now: T0 });

    /** A DAG and one run of it, returning the run and its task instances by task_id. */
    async function dagWithRun(runId = "manual__1") {
      const d = await dag();
      const run = await store.createDagRun(newRun(d, runId));
      const tis = (await store.listTaskInstances("default", d.dag_id, runId)).items;
      const ti = (taskId: string) => tis.find((t) => t.task_id === taskId)!;
      return { d, run, tis, ti };
    }

    /**
     * Moves task instances in state none along the legal path none → scheduled → queued → running, one
     * step per batch, stopping at `to`; every step must apply.
     */
    async function walkTo(ids: number | number[], to: "scheduled" | "queued" | "running", now: Date) {
      const path: TaskState[] = ["none", "scheduled", "queued", "running"];
      for (let i = 1; i <= path.indexOf(to); i++) {
        const batch = [ids].flat().map((id) => ({ id, from: [path[i - 1]!], to: path[i]! }));
        expect(await store.applyTransitions(batch, now)).toEqual(batch.map(() => true));
      }
    }

    describe("DAGs", () => {
      test("a new DAG is stored active and unpaused with its spec, version and times", async () => {
        const d = await dag();
        expect(d.dag_id).toBe("etl");
        expect(d.fileloc).toBe("/dags/etl.json");
        expect(d.is_paused).toBe(false);
        expect(d.is_active).toBe(true);
        expect(d.last_parsed_at).toEqual(T0);
        expect(d.spec).toEqual(spec("etl"));
        expect(await store.getDag("default", "etl")).toEqual(d);
        expect(await store.getDagVersion(d.version_id)).toEqual(spec("etl"));
        const { spec: _spec, ...head } = d;
        expect(await store.getDagHead("default", "etl")).toEqual(head);
      });

      test("a new DAG is paused when the server says so or the spec asks for it", async () => {
        const byServer = await store.upsertDag("default", { spec: spec("a"), fileloc: "/dags/a.json", pausedOnCreate: true, now: T0 });
        const bySpec = await dag("b", { is_paused_upon_creation: true });
        const explicitlyNot = await dag("c", { is_paused_upon_creation: false });
        expect([byServer.is_paused, bySpec.is_paused, explicitlyNot.is_paused]).toEqual([true, true, false]);
      });

      test("re-parsing unchanged content keeps the version and the pause state, and bumps last_parsed_at", async () => {
        const first = await dag();
        await store.setDagPaused("default", "etl", true);
        const again = await store.upsertDag("default", {
          spec: spec("etl"),
          fileloc: "/dags/moved.json",
          pausedOnCreate: false,
          now: at(60),
        });
        expect(again.version_id).toBe(first.version_id);
        expect(again.is_paused).toBe(true);
        expect(again.fileloc).toBe("/dags/moved.json");
        expect(again.last_parsed_at).toEqual(at(60));
      });

      test("changed content creates a new version; runs stay pinned to the version they started with", async () => {
        const v1 = await dag();
        const run = await store.createDagRun(newRun(v1, "r1"));
        const v2 = await store.upsertDag("default", {
          spec: spec("etl", { description: "now with a third task" }, ["extract", "load", "notify"]),
          fileloc: "/dags/etl.json",
          pausedOnCreate: true, // only applies to DAGs seen for the first time
          now: at(60),
        });
        expect(v2.version_id).not.toBe(v1.version_id);
        expect(v2.is_paused).toBe(false);
        expect(v2.spec.tasks.map((t) => t.task_id)).toEqual(["extract", "load", "notify"]);
        expect((await store.getDagRunById(run.id))!.version_id).toBe(v1.version_id);
        expect((await store.getDagVersion(v1.version_id))!.tasks).toHaveLength(2);
        expect((await store.getDagVersion(v2.version_id))!.tasks).toHaveLength(3);
      });

      test("unknown DAGs and versions read as null", async () => {
        expect(await store.getDag("default", "nope")).toBeNull();
        expect(await store.getDagHead("default", "nope")).toBeNull();
        expect(await store.setDagPaused("default", "nope", true)).toBeNull();
        expect(await store.getDagVersion(987654)).toBeNull();
      });

      test("setDagPaused pauses and unpauses", async () => {
        await dag();
        expect((await store.setDagPaused("default", "etl", true))!.is_paused).toBe(true);
        expect((await store.getDag("default", "etl"))!.is_paused).toBe(true);
        expect((await store.setDagPaused("default", "etl", false))!.is_paused).toBe(false);
      });

      test("deactivateDagsOfFile deactivates the file's other DAGs only; re-parsing reactivates", async () => {
        for (const id of ["a", "b"])
          await store.upsertDag("default", { spec: spec(id), fileloc: "/dags/multi.ts", pausedOnCreate: false, now: T0 });
        await dag("other");
        await store.deactivateDagsOfFile("default", "/dags/multi.ts", ["a"]);
        const active = async (id: string) => (await store.getDag("default", id))!.is_active;
        expect([await active("a"), await active("b"), await active("other")]).toEqual([true, false, true]);
        await store.deactivateDagsOfFile("default", "/dags/multi.ts", []);
        expect(await active("a")).toBe(false);
        await store.upsertDag("default", { spec: spec("a"), fileloc: "/dags/multi.ts", pausedOnCreate: false, now: at(1) });
        expect(await active("a")).toBe(true);
      });

      test("listDags filters by active, paused and tags (any of), and pages with a total", async () => {
        await dag("a", { tags: ["etl", "daily"] });
        await dag("b", { tags: ["ml"] });
        await dag("c", { tags: [] });
        await dag("d");
        await store.setDagPaused("default", "c", true);
        await store.deactivateDagsOfFile("default", "/dags/d.json", []);
        const ids = (p: { items: { dag_id: string }[] }) => p.items.map((d) => d.dag_id);

        const all = await store.listDags("default");
        expect(ids(all)).toEqual(["a", "b", "c", "d"]);
        expect(all.total).toBe(4);
        expect(ids(await store.listDags("default", { only_active: true }))).toEqual(["a", "b", "c"]);
        expect(ids(await store.listDags("default", { paused: true }))).toEqual(["c"]);
        expect(ids(await store.listDags("default", { paused: false }))).toEqual(["a", "b", "d"]);
        expect(ids(await store.listDags("default", { tags: ["ml", "daily"] }))).toEqual(["a", "b"]);
        const page = await store.listDags("default", { order_by: "-dag_id", limit: 2, offset: 1 });
        expect(ids(page)).toEqual(["c", "b"]);
        expect(page.total).toBe(4);
        const filteredPage = await store.listDags("default", { only_active: true, limit: 1 });
        expect(filteredPage.items).toHaveLength(1);
        expect(filteredPage.total).toBe(3);
      });

      test("an unknown order_by field is a ValidationError naming the allowed fields", async () => {
        await dag();
        const err = await store.listDags("default", { order_by: "-spec; DROP TABLE dags" }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as Error).message).toContain("dag_id");
        expect((err as Error).message).toContain("last_parsed_at");
        expect((await store.listDags("default")).total).toBe(1);
      });
    });

    describe("import errors", () => {
      test("replaceImportErrors replaces a file's errors and leaves other files alone", async () => {
        await store.replaceImportErrors("default", "/dags/bad.json", ["tasks[0].operator: operator is required", "schedule: bad cron"], T0);
        await store.replaceImportErrors("default", "/dags/worse.json", ["not JSON"], T0);
        await store.replaceImportErrors("default", "/dags/bad.json", ["schedule: bad cron"], at(5));
        const { items, total } = await store.listImportErrors("default", { order_by: "filename" });
        expect(total).toBe(2);
        expect(items.map((e) => [e.filename, e.stack_trace, e.timestamp])).toEqual([
          ["/dags/bad.json", "schedule: bad cron", at(5)],
          ["/dags/worse.json", "not JSON", T0],
        ]);
        expect(typeof items[0]!.id).toBe("number");
      });

      test("an empty list clears a fixed file's errors; listing pages", async () => {
        for (const f of ["a", "b", "c"]) await store.replaceImportErrors("default", `/dags/${f}.json`, [`${f} is broken`], T0);
        await store.replaceImportErrors("default", "/dags/b.json", [], at(1));
        const page = await store.listImportErrors("default", { order_by: "-filename", limit: 1 });
        expect(page.items.map((e) => e.filename)).toEqual(["/dags/c.json"]);
        expect(page.total).toBe(2);
      });
    });

    describe("DAG runs", () => {
      test("createDagRun stores a queued run and one task instance per task, in state none on try 1", async () => {
        const { d, run, tis } = await dagWithRun("manual__1");
        expect(run).toEqual({
          id: run.id,
          team: "default",
          dag_id: "etl",
          run_id: "manual__1",
          run_type: "manual",
          state: "queued",
          logical_date: T0,
          data_interval_start: T0,
          data_interval_end: at(86400),
          conf: { limit: 10, nested: { ok: true } },
          version_id: d.version_id,
          queued_at: T0,
          start_date: null,
          end_date: null,
          note: null,
        });
        expect(
          tis.map((t) => [t.task_id, t.state, t.try_number, t.max_tries, t.operator, t.pool, t.pool_slots, t.dag_run_id, t.run_id]),
        ).toEqual([
          ["extract", "none", 1, 0, "bash", "default_pool", 1, run.id, "manual__1"],
          ["load", "none", 1, 0, "bash", "default_pool", 1, run.id, "manual__1"],
        ]);
        expect(tis[0]!.queued_at).toBeNull();
        expect(tis[0]!.updated_at).toBeInstanceOf(Date);
      });

      test("a run keeps its note and null dates", async () => {
        const d = await dag();
        const run = await store.createDagRun(
          newRun(d, "r", { note: "rerun after fix", logical_date: null, data_interval_start: null, data_interval_end: null, conf: {} }),
        );
        expect(await store.getDagRun("default", "etl", "r")).toEqual(run);
        expect([run.note, run.logical_date, run.data_interval_end, run.conf]).toEqual(["rerun after fix", null, null, {}]);
      });

      test("a duplicate run_id is a ConflictError and changes nothing", async () => {
        const { d, run } = await dagWithRun("manual__1");
        const err = await store.createDagRun(newRun(d, "manual__1", { conf: { other: 1 } })).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConflictError);
        expect((err as Error).message).toBe("dag run manual__1 already exists for DAG etl");
        expect(await store.getDagRun("default", "etl", "manual__1")).toEqual(run);
        expect((await store.listTaskInstances("default", "etl", "manual__1")).total).toBe(2);
        expect((await store.listDagRuns("default")).total).toBe(1);
      });

      test("the same run_id may exist in two DAGs", async () => {
        const a = await dag("a");
        const b = await dag("b");
        const ra = await store.createDagRun(newRun(a, "same"));
        const rb = await store.createDagRun(newRun(b, "same"));
        expect(ra.id).not.toBe(rb.id);
        expect((await store.getDagRun("default", "b", "same"))!.id).toBe(rb.id);
      });

      test("unknown runs read as null", async () => {
        await dagWithRun();
        expect(await store.getDagRun("default", "etl", "nope")).toBeNull();
        expect(await store.getDagRun("default", "nope", "manual__1")).toBeNull();
        expect(await store.getDagRunById(987654)).toBeNull();
      });

      test("setDagRunState: running sets start_date once, terminal sets end_date, queued/running clear it", async () => {
        const { run } = await dagWithRun();
        expect(await store.setDagRunState(run.id, ["queued"], "running", at(1))).toBe(true);
        let r = (await store.getDagRunById(run.id))!;
        expect([r.state, r.start_date, r.end_date]).toEqual(["running", at(1), null]);

        expect(await store.setDagRunState(run.id, ["running"], "failed", at(2), "task load failed")).toBe(true);
        r = (await store.getDagRunById(run.id))!;
        expect([r.state, r.start_date, r.end_date, r.note]).toEqual(["failed", at(1), at(2), "task load failed"]);

        expect(await store.setDagRunState(run.id, ["failed"], "queued", at(3))).toBe(true);
        r = (await store.getDagRunById(run.id))!;
        expect([r.state, r.start_date, r.end_date, r.note]).toEqual(["queued", at(1), null, "task load failed"]);

        expect(await store.setDagRunState(run.id, ["queued"], "running", at(4))).toBe(true);
        expect(await store.setDagRunState(run.id, ["running"], "success", at(5))).toBe(true);
        r = (await store.getDagRunById(run.id))!;
        expect([r.state, r.start_date, r.end_date]).toEqual(["success", at(1), at(5)]);

        // Ended straight from queued (every task ended in the run's first plan): it started then.
        const { run: other } = await dagWithRun("other");
        expect(await store.setDagRunState(other.id, ["queued"], "success", at(6))).toBe(true);
        r = (await store.getDagRunById(other.id))!;
        expect([r.state, r.start_date, r.end_date]).toEqual(["success", at(6), at(6)]);
      });

      test("setDagRunState from the wrong state loses the race: false, nothing changes", async () => {
        const { run } = await dagWithRun();
        expect(await store.setDagRunState(run.id, ["running"], "success", at(1))).toBe(false);
        expect(await store.setDagRunState(run.id, [], "running", at(1))).toBe(false);
        expect(await store.setDagRunState(987654, ["queued"], "running", at(1))).toBe(false);
        expect(await store.getDagRunById(run.id)).toEqual(run);
      });

      test("listActiveRunIds lists queued and running runs, oldest first", async () => {
        const d = await dag();
        const ids: number[] = [];
        for (const r of ["r1", "r2", "r3", "r4"]) ids.push((await store.createDagRun(newRun(d, r))).id);
        await store.setDagRunState(ids[1]!, ["queued"], "running", at(1));
        await store.setDagRunState(ids[2]!, ["queued"], "running", at(1));
        await store.setDagRunState(ids[2]!, ["running"], "success", at(2));
        expect(await store.listActiveRunIds()).toEqual([ids[0]!, ids[1]!, ids[3]!]);
      });

      test("listRunIdsChangedAfter names the active runs whose task instances were written after the cursor", async () => {
        const d = await dag();
        const [r1, r2, r3] = [
          await store.createDagRun(newRun(d, "r1")),
          await store.createDagRun(newRun(d, "r2")),
          await store.createDagRun(newRun(d, "r3")),
        ];
        // Without a cursor: none, only where the next call starts.
        const first = await store.listRunIdsChangedAfter(null);
        expect(first.runIds).toEqual([]);
        const [ti2] = (await store.loadRunSnapshots([r2.id]))[0]!.tis;
        await walkTo(ti2!.id, "scheduled", at(200_000));
        const second = await store.listRunIdsChangedAfter(first.cursor);
        expect(second.runIds).toEqual([r2.id]);
        // Nothing written since the second call: nothing changed after its cursor.
        const third = await store.listRunIdsChangedAfter(second.cursor);
        expect(third.runIds).toEqual([]);
        // A run created after a cursor is named too (its task instances are new rows), and so is a run changed
        // twice, once; the unchanged ones are not.
        const r4 = await store.createDagRun(newRun(d, "r4", { queued_at: at(450_000) }));
        const [ti3] = (await store.loadRunSnapshots([r3.id]))[0]!.tis;
        await walkTo(ti3!.id, "queued", at(470_000)); // two writes: none → scheduled → queued
        const fourth = await store.listRunIdsChangedAfter(third.cursor);
        expect(fourth.runIds).toEqual([r3.id, r4.id]);
        expect(fourth.runIds).not.toContain(r1.id);
      });

      test("listRunIdsChangedAfter finds a write stamped by a clock behind the reader's, and reports it once", async () => {
        const d = await dag();
        const run = await store.createDagRun(newRun(d, "r1"));
        const first = await store.listRunIdsChangedAfter(null);
        const [ti] = (await store.loadRunSnapshots([run.id]))[0]!.tis;
        // A replica whose clock runs ten minutes behind the scheduler's writes the change.
        await walkTo(ti!.id, "scheduled", at(0));
        const second = await store.listRunIdsChangedAfter(first.cursor);
        expect(second.runIds).toEqual([run.id]);
        expect((await store.listRunIdsChangedAfter(second.cursor)).runIds).toEqual([]);
      });

      test("loadRunSnapshots returns each run with its task instances and omits unknown ids", async () => {
        const d = await dag();
        const r1 = await store.createDagRun(newRun(d, "r1"));
        const r2 = await store.createDagRun(newRun(d, "r2"));
        const snaps = await store.loadRunSnapshots([r2.id, 987654, r1.id]);
        expect(snaps.map((s) => s.run.run_id).sort()).toEqual(["r1", "r2"]);
        for (const s of snaps) {
          expect(s.run).toEqual((await store.getDagRunById(s.run.id))!);
          expect(s.tis.map((t) => [t.task_id, t.dag_run_id])).toEqual([
            ["extract", s.run.id],
            ["load", s.run.id],
          ]);
          expect(s.tis[0]).toEqual(schedulerView(await store.getTaskInstance("default", "etl", s.run.run_id, "extract"))!);
        }
        expect(await store.loadRunSnapshots([])).toEqual([]);
      });

      test("loadRunSnapshots reads a started try's times, host and executor as getTaskInstance does", async () => {
        const d = await dag();
        const r = await store.createDagRun(newRun(d, "r1"));
        const [extract, load] = (await store.loadRunSnapshots([r.id]))[0]!.tis;
        await walkTo(extract!.id, "queued", at(1_000));
        const started = { start_date: at(2_001), last_heartbeat: at(2_999), hostname: "worker-1", pid: 4242, executor: "local" };
        expect(await store.applyTransitions([{ id: extract!.id, from: ["queued"], to: "running", patch: started }], at(3_000))).toEqual([
          true,
        ]);
        const [snap] = await store.loadRunSnapshots([r.id]);
        expect(snap!.tis[0]).toEqual(schedulerView(await store.getTaskInstance("default", "etl", "r1", "extract"))!);
        expect(snap!.tis[0]).toMatchObject({ state: "running", ...started, updated_at: at(3_000) });
        expect(snap!.tis[1]).toEqual(schedulerView(await store.getTaskInstance("default", "etl", "r1", "load"))!);
        expect(snap!.tis[1]!.id).toBe(load!.id);
      });

      test("listDagRuns filters by DAG and state, orders (nulls last ascending) and pages with a total", async () => {
        const a = await dag("a");
        const b = await dag("b");
        const r1 = await store.createDagRun(newRun(a, "r1", { logical_date: at(10) }));
        const r2 = await store.createDagRun(newRun(a, "r2", { logical_date: null }));
        const r3 = await store.createDagRun(newRun(a, "r3", { logical_date: at(5) }));
        await store.createDagRun(newRun(b, "r1", { logical_date: at(1) }));
        await store.setDagRunState(r3.id, ["queued"], "running", at(1));
        const runIds = (p: { items: DagRunRecord[] }) => p.items.map((r) => r.run_id);

        expect(runIds(await store.listDagRuns("default", { dag_id: "a" }))).toEqual(["r1", "r2", "r3"]);
        expect(runIds(await store.listDagRuns("default", { dag_id: "a", order_by: "logical_date" }))).toEqual(["r3", "r1", "r2"]);
        expect(runIds(await store.listDagRuns("default", { dag_id: "a", order_by: "-logical_date" }))).toEqual(["r2", "r1", "r3"]);
        expect(runIds(await store.listDagRuns("default", { dag_id: "a", state: ["running"] }))).toEqual(["r3"]);
        expect(runIds(await store.listDagRuns("default", { dag_id: "a", state: ["queued", "running"], order_by: "-id" }))).toEqual([
          "r3",
          "r2",
          "r1",
        ]);
        const page = await store.listDagRuns("default", { limit: 2, offset: 2 });
        expect(page.items.map((r) => [r.dag_id, r.run_id])).toEqual([
          ["a", "r3"],
          ["b", "r1"],
        ]);
        expect(page.total).toBe(4);
        expect((await store.listDagRuns("default", { dag_id: "a", limit: 1 })).total).toBe(3);
        expect(r1.id).toBeLessThan(r2.id);
        await expect(store.listDagRuns("default", { order_by: "conf" })).rejects.toBeInstanceOf(ValidationError);
      });
    });

    describe("task instances", () => {
      test("task instances read by natural key and by id; unknown ones are null", async () => {
        const { ti } = await dagWithRun();
        const load = ti("load");
        expect(await store.getTaskInstance("default", "etl", "manual__1", "load")).toEqual(load);
        expect(await store.getTaskInstanceById(load.id)).toEqual(schedulerView(load));
        expect(await store.getTaskInstance("default", "etl", "manual__1", "nope")).toBeNull();
        expect(await store.getTaskInstanceById(987654)).toBeNull();
      });

      test("listTaskInstances orders and pages with a total", async () => {
        const d = await dag("etl", {}, ["c", "a", "b"]);
        await store.createDagRun(newRun(d, "r"));
        const ids = (p: { items: TaskInstanceRecord[] }) => p.items.map((t) => t.task_id);
        expect(ids(await store.listTaskInstances("default", "etl", "r"))).toEqual(["c", "a", "b"]);
        expect(ids(await store.listTaskInstances("default", "etl", "r", { order_by: "task_id" }))).toEqual(["a", "b", "c"]);
        const page = await store.listTaskInstances("default", "etl", "r", { order_by: "-task_id", limit: 2, offset: 1 });
        expect(ids(page)).toEqual(["b", "a"]);
        expect(page.total).toBe(3);
        await expect(store.listTaskInstances("default", "etl", "r", { order_by: "note" })).rejects.toBeInstanceOf(ValidationError);
      });

      test("applyTransitions applies state and patch, clears fields set to null, and sets updated_at", async () => {
        const { ti } = await dagWithRun();
        const id = ti("extract").id;
        await walkTo(id, "scheduled", at(0));
        expect(
          await store.applyTransitions(
            [{ id, from: ["scheduled"], to: "queued", patch: { queued_at: at(1), executor: "subprocess", note: "waiting" } }],
            at(1),
          ),
        ).toEqual([true]);
        expect(
          await store.applyTransitions(
            [{ id, from: ["queued"], to: "running", patch: { start_date: at(2), hostname: "box", pid: 42, note: null } }],
            at(2),
          ),
        ).toEqual([true]);
        const got = (await store.getTaskInstanceById(id))!;
        expect(got).toMatchObject({
          state: "running",
          queued_at: at(1),
          start_date: at(2),
          end_date: null,
          hostname: "box",
          pid: 42,
          executor: "subprocess",
          note: null,
          try_number: 1,
        });
        expect(got.updated_at).toEqual(at(2));
      });

      test("applyTransitions returns one boolean per input; a lost race changes nothing", async () => {
        const { ti } = await dagWithRun();
        const extract = ti("extract");
        const load = ti("load");
        const results = await store.applyTransitions(
          [
            { id: extract.id, from: ["none"], to: "scheduled" },
            { id: load.id, from: ["queued"], to: "running" }, // load is in none: loses
            { id: extract.id, from: ["none"], to: "upstream_failed" }, // extract was just moved: loses
            { id: 987654, from: ["none"], to: "scheduled" },
            { id: load.id, from: [], to: "scheduled" },
          ],
          at(1),
        );
        expect(results).toEqual([true, false, false, false, false]);
        expect((await store.getTaskInstanceById(extract.id))!.state).toBe("scheduled");
        expect(await store.getTaskInstanceById(load.id)).toEqual(schedulerView(load));
      });

      test("a transition guarded by try_number ignores reports from an older try", async () => {
        const { ti } = await dagWithRun();
        const id = ti("extract").id;
        await walkTo(id, "running", at(1));
        expect(await store.applyTransitions([{ id, from: ["running"], to: "up_for_retry" }], at(2))).toEqual([true]);
        // The retry: back to none on try 2, then the legal path to running again.
        expect(await store.applyTransitions([{ id, from: ["up_for_retry"], to: "none", patch: { try_number: 2 } }], at(3))).toEqual([true]);
        await walkTo(id, "running", at(3));
        expect((await store.getTaskInstanceById(id))!).toMatchObject({ state: "running", try_number: 2 });
        expect(await store.applyTransitions([{ id, from: ["running"], to: "success", try_number: 1 }], at(4))).toEqual([false]);
        expect((await store.getTaskInstanceById(id))!.state).toBe("running");
        expect(await store.applyTransitions([{ id, from: ["running"], to: "success", try_number: 2 }], at(5))).toEqual([true]);
        expect((await store.getTaskInstanceById(id))!).toMatchObject({ state: "success", try_number: 2 });
      });

      test("a batch is atomic: when one transition fails, none of the batch is applied", async () => {
        const { ti } = await dagWithRun();
        const before = [await store.getTaskInstanceById(ti("extract").id), await store.getTaskInstanceById(ti("load").id)];
        const batch = store.applyTransitions(
          [
            { id: ti("extract").id, from: ["none"], to: "scheduled" },
            // try_number is NOT NULL: the database rejects this row mid-batch.
            { id: ti("load").id, from: ["none"], to: "scheduled", patch: { try_number: null as unknown as number } },
          ],
          at(1),
        );
        await expect(batch).rejects.toThrow();
        expect([await store.getTaskInstanceById(ti("extract").id), await store.getTaskInstanceById(ti("load").id)]).toEqual(before);
      });

      test("an illegal transition is refused with IllegalTransitionError and changes nothing", async () => {
        const { ti } = await dagWithRun();
        const extract = ti("extract").id;
        const load = ti("load").id;
        const before = [await store.getTaskInstanceById(extract), await store.getTaskInstanceById(load)];
        // none -> queued skips scheduled; the legal first transition in the same batch must not apply either.
        const batch = store.applyTransitions(
          [
            { id: extract, from: ["none"], to: "scheduled" },
            { id: load, from: ["none"], to: "queued" },
          ],
          at(1),
        );
        await expect(batch).rejects.toBeInstanceOf(IllegalTransitionError);
        await expect(batch).rejects.toMatchObject({ from: "none", to: "queued" });
        expect([await store.getTaskInstanceById(extract), await store.getTaskInstanceById(load)]).toEqual(before);

        // A finished instance cannot run again without being cleared, even if one listed `from` state is legal.
        expect(await store.applyTransitions([{ id: extract, from: ["none"], to: "success" }], at(2))).toEqual([true]);
        const done = await store.getTaskInstanceById(extract);
        await expect(store.applyTransitions([{ id: extract, from: ["queued", "success"], to: "running" }], at(3))).rejects.toMatchObject({
          from: "success",
          to: "running",
        });
        expect(await store.getTaskInstanceById(extract)).toEqual(done);
      });

      test("countActiveTaskInstances counts queued and running instances per team and DAG, and per team", async () => {
        const a = await dag("a", {}, ["t1", "t2", "t3"]);
        const b = await dag("b", {}, ["t1"]);
        await store.createDagRun(newRun(a, "r"));
        await store.createDagRun(newRun(b, "r"));
        expect(await store.countActiveTaskInstances()).toEqual({ byDag: new Map(), byTeam: new Map() });
        const [t1, t2, t3] = (await store.listTaskInstances("default", "a", "r")).items.map((t) => t.id);
        const bt1 = (await store.getTaskInstance("default", "b", "r", "t1"))!.id;
        await walkTo(t1!, "queued", at(1));
        await walkTo([t2!, bt1], "running", at(1));
        expect(await store.applyTransitions([{ id: t3!, from: ["none"], to: "success" }], at(1))).toEqual([true]); // marked
        expect(await store.countActiveTaskInstances()).toEqual({
          byDag: new Map([
            ["default/a", 2],
            ["default/b", 1],
          ]),
          byTeam: new Map([["default", { tasks: 3, pool_slots: 3, inline: 0 }]]),
        });
      });

      test("heartbeat is recorded only while the instance runs that try", async () => {
        const { ti } = await dagWithRun();
        const id = ti("extract").id;
        expect(await store.heartbeat(id, 1, at(1))).toBe(false); // not running yet
        await walkTo(id, "running", at(1));
        expect(await store.heartbeat(id, 1, at(2))).toBe(true);
        expect((await store.getTaskInstanceById(id))!.last_heartbeat).toEqual(at(2));
        expect(await store.heartbeat(id, 2, at(3))).toBe(false); // wrong try
        await store.applyTransitions([{ id, from: ["running"], to: "success" }], at(4));
        expect(await store.heartbeat(id, 1, at(5))).toBe(false);
        expect((await store.getTaskInstanceById(id))!.last_heartbeat).toEqual(at(2));
      });
    });

    describe("logs", () => {
      const lines = (...texts: string[]) => texts.map((line, i) => ({ timestamp: at(i), stream: "stdout", line }));

      test("lines come back in seq order whatever order batches arrive in; a resent batch is ignored", async () => {
        const { ti } = await dagWithRun();
        const id = ti("extract").id;
        await store.appendLogs(id, 1, 2, lines("c", "d"));
        await store.appendLogs(id, 1, 0, lines("a", "b"));
        await store.appendLogs(id, 1, 2, lines("c-resent", "d-resent", "e")); // retry after a timeout, plus one new line
        const got = await store.readLogs(id, 1);
        expect(got.map((l) => [l.seq, l.line])).toEqual([
          [0, "a"],
          [1, "b"],
          [2, "c"],
          [3, "d"],
          [4, "e"],
        ]);
        expect(got[0]).toEqual({ seq: 0, timestamp: at(0), stream: "stdout", line: "a" });
      });

      test("readLogs reads after a seq, up to a limit, per try", async () => {
        const { ti } = await dagWithRun();
        const id = ti("extract").id;
        await store.appendLogs(id, 1, 0, lines("a", "b", "c", "d"));
        await store.appendLogs(id, 2, 0, [{ timestamp: at(9), stream: "stderr", line: "try 2" }]);
        expect((await store.readLogs(id, 1, 1)).map((l) => l.line)).toEqual(["c", "d"]);
        expect((await store.readLogs(id, 1, 0, 2)).map((l) => l.line)).toEqual(["b", "c"]);
        expect((await store.readLogs(id, 2)).map((l) => [l.stream, l.line])).toEqual([["stderr", "try 2"]]);
        expect(await store.readLogs(id, 3)).toEqual([]);
        await store.appendLogs(id, 1, 4, []);
        expect(await store.readLogs(id, 1, 3)).toEqual([]);
      });

      test("lastLogSeq is a try's last stored line, -1 for a try with none; appendToTryLog writes after it", async () => {
        const { ti } = await dagWithRun();
        const id = ti("extract").id;
        expect(await store.lastLogSeq(id, 1)).toBe(-1);
        await store.appendLogs(id, 1, 0, lines("a", "b", "c"));
        await store.appendLogs(id, 1, 3, lines("d", "e")); // a second batch
        await store.appendLogs(id, 2, 0, lines("try 2"));
        expect([await store.lastLogSeq(id, 1), await store.lastLogSeq(id, 2), await store.lastLogSeq(id, 3)]).toEqual([4, 0, -1]);
        await appendToTryLog(store, id, 1, [{ timestamp: at(9), stream: "leoflow", line: "marked failed" }]);
        expect((await store.readLogs(id, 1, 3)).map((l) => [l.seq, l.stream, l.line])).toEqual([
          [4, "stdout", "e"],
          [5, "leoflow", "marked failed"],
        ]);
      });

      test("batches overlapping in seq read back once per seq, the line stored first kept; a batch written twice in one call is one", async () => {
        const { ti } = await dagWithRun();
        const id = ti("extract").id;
        await store.appendLogs(id, 1, 0, lines("a", "b", "c"));
        await store.appendLogs(id, 1, 2, lines("c-again", "d")); // a writer that resent from the middle of a batch
        expect((await store.readLogs(id, 1)).map((l) => [l.seq, l.line])).toEqual([
          [0, "a"],
          [1, "b"],
          [2, "c"],
          [3, "d"],
        ]);
        const twice = { ti_id: id, try_number: 2, first_seq: 0, lines: lines("x") };
        await store.appendLogBatches([twice, { ...twice, lines: lines("x", "y") }, twice]);
        expect((await store.readLogs(id, 2)).map((l) => l.line)).toEqual(["x", "y"]);
      });

      test("a batch longer than a row holds reads back whole from any seq, and a longer resend adds only its new lines", async () => {
        const { ti } = await dagWithRun();
        const id = ti("extract").id;
        const texts = Array.from({ length: 1_300 }, (_, i) => `line ${i}`);
        await store.appendLogs(id, 1, 0, lines(...texts.slice(0, 1_200)));
        await store.appendLogs(id, 1, 0, lines(...texts.slice(0, 1_200).map((t) => `${t} again`))); // a resend
        expect((await store.readLogs(id, 1)).map((l) => l.line)).toEqual(texts.slice(0, 1_200));
        expect((await store.readLogs(id, 1, 1_100, 50)).map((l) => l.seq)).toEqual(texts.slice(1_101, 1_151).map((_, i) => 1_101 + i));
        expect((await store.readLogs(id, 1, 499, 2)).map((l) => l.line)).toEqual(["line 500", "line 501"]);
        await store.appendLogs(id, 1, 0, lines(...texts.map((t, i) => (i < 1_200 ? `${t} again` : t))));
        const all = await store.readLogs(id, 1);
        expect(all.map((l) => l.line)).toEqual(texts);
        // Deep into a log of one-line batches (a task printing a line a second): the last lines after any seq.
        for (let seq = 0; seq < 1_500; seq++)
          await store.appendLogs(id, 2, seq, [{ timestamp: at(seq), stream: "stdout", line: `${seq}` }]);
        expect((await store.readLogs(id, 2, 1_495)).map((l) => l.line)).toEqual(["1496", "1497", "1498", "1499"]);
        // 1,500 appends one after another: ~1.4 s on Postgres on an idle 2-core machine, past 5 s beside other work.
      }, 30_000);

      test("a log of many batches reads page by page: after any seq, up to any limit, across batches of any size", async () => {
        const { ti } = await dagWithRun();
        const id = ti("extract").id;
        const texts = Array.from({ length: 60 }, (_, i) => `line ${i}`);
        const one = (seq: number) => [{ timestamp: at(seq), stream: "stdout", line: texts[seq]! }];
        // Seqs 0–29 one line a batch, 30–59 in one batch, written out of order; seq 25 resent with the ten after it.
        await store.appendLogs(
          id,
          1,
          30,
          texts.slice(30).map((_, i) => one(30 + i)[0]!),
        );
        for (let seq = 0; seq < 30; seq++) await store.appendLogs(id, 1, seq, one(seq));
        await store.appendLogs(
          id,
          1,
          25,
          texts.slice(25, 35).map((_, i) => one(25 + i)[0]!),
        );
        const all = await store.readLogs(id, 1);
        expect(all).toEqual(texts.map((line, seq) => ({ seq, timestamp: at(seq), stream: "stdout", line })));
        // Pages of 7 from the start, as a client following the log would read them.
        const paged: string[] = [];
        for (let after = -1; ; ) {
          const page = await store.readLogs(id, 1, after, 7);
          if (!page.length) break;
          paged.push(...page.map((l) => l.line));
          after = page.at(-1)!.seq;
        }
        expect(paged).toEqual(texts);
        expect((await store.readLogs(id, 1, 27, 5)).map((l) => l.seq)).toEqual([28, 29, 30, 31, 32]);
        expect((await store.readLogs(id, 1, 58, 5)).map((l) => l.seq)).toEqual([59]);
      });
    });

    describe("XCom", () => {
      const key = (task_id: string, k = "return_value", map_index?: number) => ({
        team: "default",
        dag_id: "etl",
        run_id: "r",
        task_id,
        key: k,
        map_index,
      });

      test("values round-trip as parsed JSON and a second set replaces the first", async () => {
        for (const [i, v] of [{ rows: 42, tags: ["a"] }, 7, "text", null, [1, { b: true }]].entries()) {
          await store.setXCom(key("t", `k${i}`), v, at(i));
          expect((await store.getXCom(key("t", `k${i}`)))!.value).toEqual(v);
        }
        await store.setXCom(key("t", "k0"), { rows: 43 }, at(9));
        expect(await store.getXCom(key("t", "k0"))).toEqual({
          team: "default",
          dag_id: "etl",
          run_id: "r",
          task_id: "t",
          map_index: -1,
          key: "k0",
          value: { rows: 43 },
          timestamp: at(9),
        });
        expect(await store.getXCom(key("t", "missing"))).toBeNull();
      });

      test("map_index defaults to -1 (not mapped) and keeps mapped values apart", async () => {
        await store.setXCom(key("t"), "unmapped", T0);
        await store.setXCom(key("t", "return_value", 0), "m0", T0);
        expect((await store.getXCom(key("t", "return_value", -1)))!.value).toBe("unmapped");
        expect((await store.getXCom(key("t", "return_value", 0)))!.value).toBe("m0");
        expect(await store.getXCom(key("t", "return_value", 1))).toBeNull();
      });

      test("insertXCom stores only where the key has no value and its task instance exists; updateXCom only replaces", async () => {
        const d = await dag();
        await store.createDagRun(newRun(d, "r"));
        const stored = await store.insertXCom(key("extract", "rows"), { n: 1 }, at(1));
        expect(stored).toEqual({
          team: "default",
          dag_id: "etl",
          run_id: "r",
          task_id: "extract",
          map_index: -1,
          key: "rows",
          value: { n: 1 },
          timestamp: at(1),
        });
        // A second create finds the first: nothing written.
        expect(await store.insertXCom(key("extract", "rows"), 2, at(2))).toBeNull();
        expect((await store.getXCom(key("extract", "rows")))!.value).toEqual({ n: 1 });
        // No such task instance (another task, a map index it does not have, another run): nothing written.
        for (const k of [key("nope", "rows"), key("extract", "rows", 3), { ...key("extract", "rows"), run_id: "gone" }]) {
          expect(await store.insertXCom(k, 1, at(3))).toBeNull();
          expect(await store.getXCom(k)).toBeNull();
        }
        expect(await store.updateXCom(key("extract", "rows"), [1, 2], at(4))).toMatchObject({ value: [1, 2], timestamp: at(4) });
        expect((await store.getXCom(key("extract", "rows")))!.value).toEqual([1, 2]);
        // Nothing to replace: none is created.
        expect(await store.updateXCom(key("extract", "other"), 1, at(5))).toBeNull();
        expect(await store.getXCom(key("extract", "other"))).toBeNull();
        await expect(store.insertXCom(key("extract", "big"), "x".repeat(1024 * 1024), at(6))).rejects.toBeInstanceOf(TooLargeError);
      });

      test("a value over the limit is a TooLargeError saying its size and the limit", async () => {
        const big = "x".repeat(1024 * 1024); // its JSON adds two quotes
        const err = await store.setXCom(key("t", "big"), big, T0).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TooLargeError);
        expect((err as Error).message).toBe("XCom big of task t is 1048578 bytes; the limit is 1048576 bytes (--xcom-max-bytes)");
        expect(await store.getXCom(key("t", "big"))).toBeNull();
        await store.setXCom(key("t", "fits"), "x".repeat(1024 * 1024 - 2), T0);
        expect(((await store.getXCom(key("t", "fits")))!.value as string).length).toBe(1024 * 1024 - 2);
      });

      test("listXComs filters by task and key, orders, pages", async () => {
        await store.setXCom(key("b"), 1, T0);
        await store.setXCom(key("a", "z"), 2, T0);
        await store.setXCom(key("a"), 3, T0);
        await store.setXCom(key("a", "return_value", 1), 4, T0);
        await store.setXCom({ ...key("a"), run_id: "other" }, 5, T0);
        const rows = (p: { items: { task_id: string; key: string; map_index: number }[] }) =>
          p.items.map((x) => `${x.task_id}/${x.key}/${x.map_index}`);

        const all = await store.listXComs("default", { dag_id: "etl", run_id: "r" });
        expect(rows(all)).toEqual(["a/return_value/-1", "a/z/-1", "a/return_value/1", "b/return_value/-1"]);
        expect(all.total).toBe(4);
        expect(rows(await store.listXComs("default", { dag_id: "etl", run_id: "r", task_id: "a", key: "return_value" }))).toEqual([
          "a/return_value/-1",
          "a/return_value/1",
        ]);
        const page = await store.listXComs("default", { dag_id: "etl", run_id: "r", order_by: "-task_id", limit: 2 });
        expect(rows(page)).toEqual(["b/return_value/-1", "a/return_value/1"]);
        expect(page.total).toBe(4);
        await expect(store.listXComs("default", { dag_id: "etl", run_id: "r", order_by: "value" })).rejects.toBeInstanceOf(ValidationError);
      });
    });

    describe("users", () => {
      test("putUser inserts, then replaces password and role but keeps created_at", async () => {
        expect(await store.getUser("ada")).toBeNull();
        await store.putUser({ username: "ada", password_hash: "h1", role: "viewer" }, T0);
        expect(await store.getUser("ada")).toEqual({ username: "ada", password_hash: "h1", role: "viewer", created_at: T0 });
        await store.putUser({ username: "ada", password_hash: "h2", role: "admin" }, at(60));
        expect(await store.getUser("ada")).toEqual({ username: "ada", password_hash: "h2", role: "admin", created_at: T0 });
      });

      test("addUser inserts a new user only: a taken name answers false and changes nothing, also when raced", async () => {
        expect(await store.addUser({ username: "ada", password_hash: "h1", role: "admin" }, T0)).toBe(true);
        expect(await store.getUser("ada")).toEqual({ username: "ada", password_hash: "h1", role: "admin", created_at: T0 });
        expect(await store.getUserRoles("ada")).toEqual([{ team: "default", role: "admin" }]);
        expect(await store.addUser({ username: "ada", password_hash: "h2", role: "viewer" }, at(60))).toBe(false);
        expect(await store.getUser("ada")).toEqual({ username: "ada", password_hash: "h1", role: "admin", created_at: T0 });
        const raced = await Promise.all(
          ["h3", "h4", "h5"].map((h) => store.addUser({ username: "bo", password_hash: h, role: "viewer" }, T0)),
        );
        expect(raced.filter(Boolean)).toHaveLength(1);
        expect((await store.getUser("bo"))!.password_hash).toBe(["h3", "h4", "h5"][raced.indexOf(true)]!);
      });

      test("listUsers by name; changeUser changes, deletes, and never removes or demotes the last admin", async () => {
        await store.putUser({ username: "zed", password_hash: "h", role: "admin" }, T0);
        await store.putUser({ username: "bo", password_hash: "h", role: "viewer" }, T0);
        expect((await store.listUsers()).map((u) => `${u.username}:${u.role}`)).toEqual(["bo:viewer", "zed:admin"]);
        expect(await store.changeUser("zed", { role: "op" })).toBe("last_admin");
        expect(await store.changeUser("zed", { delete: true })).toBe("last_admin");
        expect(await store.changeUser("nobody", { delete: true })).toBe("missing");
        expect(await store.changeUser("bo", { role: "admin", password_hash: "h2" })).toMatchObject({ role: "admin", password_hash: "h2" });
        expect(await store.changeUser("zed", { delete: true })).toMatchObject({ username: "zed", role: "admin" });
        expect((await store.listUsers()).map((u) => u.username)).toEqual(["bo"]);
        expect(await store.changeUser("bo", { role: "viewer" })).toBe("last_admin");
        expect((await store.getUser("bo"))!.role).toBe("admin");
      });

      test("two concurrent demotions of the last two admins: one wins, an admin remains", async () => {
        await store.putUser({ username: "a1", password_hash: "h", role: "admin" }, T0);
        await store.putUser({ username: "a2", password_hash: "h", role: "admin" }, T0);
        const results = await Promise.all([store.changeUser("a1", { role: "viewer" }), store.changeUser("a2", { role: "viewer" })]);
        expect(results.filter((r) => r === "last_admin")).toHaveLength(1);
        expect((await store.listUsers()).filter((u) => u.role === "admin")).toHaveLength(1);
      });
    });

    variablesContract(() => store);
    schedulingContract(() => store);
    reapersContract(() => store);
    poolsContract(() => store);
    eventsContract(() => store);
    stagingContract(() => store);
    bulkAuditContract(() => store);
    dagsQueryContract(() => store);
    runListsContract(() => store);
    teamsContract(() => store);
    teamsDagsContract(() => store);
    teamsSchedulerContract(() => store);
    teamsConfigContract(() => store);
    teamsRunsContract(() => store);
    runChangesContract(() => store);
    runCreateContract(() => store);
    inlineBatchesContract(() => store);
    inlineTriesContract(() => store);
    sensorsContract(() => store);
    runStatesContract(() => store);
    snapshotsContract(() => store);
    tickReadsContract(() => store);
    callbacksContract(() => store);
    webhooksContract(() => store);
    webhookUpkeepContract(() => store);
    mappingContract(() => store);
    transitionPairsContract(() => store);
    sameChangesContract(() => store);
    agentTriesContract(() => store);
    userNotesContract(() => store);
    backfillDatesContract(() => store);
  });
}
