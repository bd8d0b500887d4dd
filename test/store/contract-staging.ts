/**
 * Store contract for staging-volume records: a volume is recorded once while live, each deletion keeps its
 * reason, a name reclaimed and created again gets a new record, executors do not see each other's, and the
 * live records whose run no longer exists are the orphans GC reclaims.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { T0, newRun } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const vol = (name: string, run_id = "r1") => ({ executor: "kubernetes", team: "default", name, dag_id: "etl", run_id });

export function stagingContract(getStore: () => Store): void {
  describe("staging volumes", () => {
    test("recorded once while live; a deletion keeps its reason; the same name created again is a new record", async () => {
      const store = getStore();
      expect(await store.recordStagingVolume(vol("lf-stg-a"), T0)).toBe(true);
      expect(await store.recordStagingVolume(vol("lf-stg-a"), at(5))).toBe(false); // every launch ensures it
      expect(await store.listStagingVolumes("kubernetes", { liveOnly: true })).toEqual([
        { ...vol("lf-stg-a"), created_at: T0, deleted_at: null, delete_reason: null },
      ]);
      expect(await store.markStagingVolumeDeleted("kubernetes", "lf-stg-a", "its run succeeded", at(10))).toBe(true);
      expect(await store.markStagingVolumeDeleted("kubernetes", "lf-stg-a", "again", at(11))).toBe(false);
      expect(await store.listStagingVolumes("kubernetes", { liveOnly: true })).toEqual([]);
      expect(await store.recordStagingVolume(vol("lf-stg-a"), at(20))).toBe(true); // clear + re-run after GC
      expect(await store.listStagingVolumes("kubernetes")).toEqual([
        { ...vol("lf-stg-a"), created_at: T0, deleted_at: at(10), delete_reason: "its run succeeded" },
        { ...vol("lf-stg-a"), created_at: at(20), deleted_at: null, delete_reason: null },
      ]);
      expect(await store.listStagingVolumes("docker")).toEqual([]);
      expect(await store.markStagingVolumeDeleted("docker", "lf-stg-a", "not its", at(30))).toBe(false);
    });

    test("orphans: live records whose run does not exist, not deleted ones nor those of a live run", async () => {
      const store = getStore();
      const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
      const dag = await store.upsertDag("default", { spec, fileloc: "/dags/etl.json", pausedOnCreate: false, now: T0 });
      await store.createDagRun(newRun(dag, "r1"));
      await store.recordStagingVolume(vol("lf-stg-live", "r1"), T0);
      await store.recordStagingVolume(vol("lf-stg-gone", "r-gone"), at(1));
      await store.recordStagingVolume(vol("lf-stg-done", "r-done"), at(2));
      await store.markStagingVolumeDeleted("kubernetes", "lf-stg-done", "orphan: its run no longer exists", at(3));
      expect((await store.listOrphanStagingVolumes("kubernetes")).map((v) => [v.name, v.run_id])).toEqual([["lf-stg-gone", "r-gone"]]);
      expect(await store.listOrphanStagingVolumes("docker")).toEqual([]);
    });
  });
}
