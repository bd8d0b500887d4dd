/**
 * Store contract for loadTickReads, a woken tick's reads in one call (one statement on Postgres): it must
 * answer exactly what loadRunSnapshots, loadRunGates, countActiveTaskInstances and listPoolUsage answer
 * separately, over runs that touch every part (a backfill run, a paused DAG, another team, a pool in use,
 * queued and inline running task instances, a run that ended, an id that does not exist).
 */
import { describe, expect, test } from "bun:test";
import type { DagRecord, DagRef, TaskInstanceRecord } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { backfillSkips } from "../../src/scheduler";
import type { Store } from "../../src/store";
import { newRun, runTask, T0 } from "./contract-fixtures";

const at = (ms: number) => new Date(T0.getTime() + ms);
const task = (task_id: string, pool = "default_pool", pool_slots = 1) => runTask(task_id, { pool, pool_slots });

async function dagOf(store: Store, team: string, dagId: string, paused = false): Promise<DagRecord> {
  await store.ensureTeam(team, T0);
  const spec = parseDagSpec({
    dag_id: dagId,
    max_active_runs: 3,
    tasks: ["a", "b"].map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })),
  });
  return store.upsertDag(team, { spec, fileloc: `/dags/${dagId}.json`, pausedOnCreate: paused, now: T0 });
}

async function drive(store: Store, ti: TaskInstanceRecord, to: "queued" | "running", executor = "subprocess") {
  const path: ("scheduled" | "queued" | "running")[] = to === "queued" ? ["scheduled", "queued"] : ["scheduled", "queued", "running"];
  let from = ti.state;
  for (const step of path) {
    const patch = step === "queued" ? { queued_at: at(1), executor } : step === "running" ? { start_date: at(2) } : {};
    expect(await store.applyTransitions([{ id: ti.id, from: [from], to: step, patch }], at(3))).toEqual([true]);
    from = step;
  }
}

/** The separate reads a tick made before loadTickReads. */
async function separately(store: Store, snapshotIds: number[], gateIds: number[], gateDags: DagRef[] = []) {
  return {
    snapshots: await store.loadRunSnapshots(snapshotIds),
    gates: await store.loadRunGates(gateIds, gateDags),
    active: await store.countActiveTaskInstances(),
    pools: await store.listPoolUsage(),
  };
}

export function tickReadsContract(getStore: () => Store): void {
  describe("loadTickReads (a woken tick's reads at once)", () => {
    test("answers what the four separate reads answer, for every kind of run", async () => {
      const store = getStore();
      await store.createPool("default", { name: "gpu", slots: 4, description: null, include_deferred: false });
      const etl = await dagOf(store, "default", "etl");
      const held = await dagOf(store, "default", "held", true);
      const theirs = await dagOf(store, "team-tr", "etl");
      const running = await store.createDagRun(
        newRun(etl, 'r,"1"', { conf: { nested: [1, { deep: null }] }, tasks: [task("a", "gpu", 2), task("b")] }),
      );
      await store.setDagRunState(running.id, ["queued"], "running", at(1));
      const queued = await store.createDagRun(newRun(etl, "r2", { tasks: [task("a"), task("b")] }));
      const paused = await store.createDagRun(newRun(held, "r3"));
      const other = await store.createDagRun(newRun(theirs, "r4", { tasks: [task("a"), task("b")] }));
      await store.setDagRunState(other.id, ["queued"], "running", at(1));
      const done = await store.createDagRun(newRun(etl, "r5"));
      await store.setDagRunState(done.id, ["queued"], "success", at(1));
      const { created } = await store.createBackfill({
        skip_existing: backfillSkips("none"),
        team: "default",
        dag_id: "etl",
        from_date: at(0),
        to_date: at(0),
        run_backwards: false,
        dag_run_conf: null,
        reprocess_behavior: "none",
        max_active_runs: 2,
        now: T0,
        runs: [newRun(etl, "backfill__1", { run_type: "backfill", logical_date: at(0) })],
      });
      const [a, b] = (await store.loadRunSnapshots([running.id]))[0]!.tis;
      await drive(store, a!, "running");
      await drive(store, b!, "running", "inline");
      await drive(store, (await store.loadRunSnapshots([other.id]))[0]!.tis[0]!, "queued");

      const ids = [other.id, running.id, queued.id, paused.id, done.id, ...created];
      const snapshotIds = [running.id, other.id, done.id, 999_999];
      const gateIds = [...ids, 999_999];
      const together = await store.loadTickReads(snapshotIds, gateIds);
      expect(together).toEqual(await separately(store, snapshotIds, gateIds));
      // What the comparison covers is not empty: every part holds something.
      expect(together.snapshots.map((s) => s.run.id)).toEqual([running.id, other.id, done.id]);
      expect(together.gates.runs.map((r) => r.id)).toEqual([running.id, queued.id, paused.id, other.id, ...created]);
      expect(together.gates.dags.get("default/held")?.is_paused).toBe(true);
      expect(together.gates.backfills.size).toBe(1);
      expect(together.active.byTeam.get("default")).toEqual({ tasks: 2, pool_slots: 3, inline: 1 });
      expect(together.pools.find((p) => p.name === "gpu")).toMatchObject({ team: "default", slots: 4, running_slots: 2, queued_slots: 0 });
    });

    test("reads the capacity alone when given no runs, as countActiveTaskInstances and listPoolUsage answer it", async () => {
      const store = getStore();
      const etl = await dagOf(store, "default", "etl");
      const run = await store.createDagRun(
        newRun(etl, "r1", { tasks: [task("a"), task("b", "nowhere", 3), task("c", "default_pool", 2)] }),
      );
      const [a, b, c] = (await store.loadRunSnapshots([run.id]))[0]!.tis;
      await drive(store, a!, "queued");
      // A pool no one created holds its task's slots nowhere; two pools of one DAG count once for the DAG.
      await drive(store, b!, "running");
      await drive(store, c!, "running", "inline");
      const together = await store.loadTickReads([], []);
      expect(together).toEqual(await separately(store, [], []));
      expect(together.snapshots).toEqual([]);
      expect(together.active.byDag.get("default/etl")).toBe(3);
      expect(together.active.byTeam.get("default")).toEqual({ tasks: 3, pool_slots: 6, inline: 1 });
      expect(together.pools.find((p) => p.name === "default_pool")).toMatchObject({ running_slots: 2, queued_slots: 1 });
    });

    test("gates the DAGs asked for besides the runs as loadRunGates does", async () => {
      const store = getStore();
      const etl = await dagOf(store, "default", "etl");
      await dagOf(store, "default", "held", true);
      await dagOf(store, "team-tr", "held");
      const run = await store.createDagRun(newRun(etl, "r1"));
      const gateDags = [
        { team: "default", dag_id: "held" },
        { team: "team-tr", dag_id: "held" },
        { team: "default", dag_id: "etl" },
        { team: "default", dag_id: "unknown" },
      ];
      const together = await store.loadTickReads([], [run.id], gateDags);
      expect(together).toEqual(await separately(store, [], [run.id], gateDags));
      expect(together.gates.runs.map((r) => r.id)).toEqual([run.id]);
      expect([...together.gates.dags.keys()].sort()).toEqual(["default/etl", "default/held", "team-tr/held"]);
      expect(together.gates.dags.get("default/held")?.is_paused).toBe(true);
      expect(together.gates.dags.get("team-tr/held")?.is_paused).toBe(false);
    });
  });
}
