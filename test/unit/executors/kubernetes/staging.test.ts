/** Staging PVCs: when GC reclaims one, and the claim it makes. Table-driven. */
import { describe, expect, test } from "bun:test";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { buildStagingPvc, isDnsLabel, stagingGcDecision } from "../../../../src/executors/kubernetes";

const now = new Date("2026-01-02T00:00:00Z");
const ttl = 86_400_000;

describe("stagingGcDecision", () => {
  test.each([
    ["an orphan (its run is gone)", null, { remove: true, why: "orphan: its run no longer exists" }],
    ["a successful run: at once", { state: "success", end_date: now }, { remove: true, why: "its run succeeded" }],
    [
      "a failed run within the TTL: kept for a clear + re-run",
      { state: "failed", end_date: new Date(now.getTime() - ttl + 1) },
      { remove: false, why: "" },
    ],
    [
      "a failed run past the TTL",
      { state: "failed", end_date: new Date(now.getTime() - ttl) },
      { remove: true, why: "its run failed more than 86400s ago" },
    ],
    ["a running run", { state: "running", end_date: null }, { remove: false, why: "" }],
    ["a queued run (cleared, about to re-run)", { state: "queued", end_date: null }, { remove: false, why: "" }],
  ])("%s", (_, run, expected) => {
    expect(stagingGcDecision(run, now, ttl)).toEqual(expected);
  });
});

describe("buildStagingPvc", () => {
  const settings = {
    instance: "3f9a0c1d2e4b",
    namespace: "leoflow",
    stagingStorageClass: "",
    stagingSize: "1Gi",
    stagingAccessMode: "ReadWriteOnce",
  };
  const run = (runId: string, team = "default") => ({ team, dagId: "etl", runId });
  test("a valid claim named from the run, its ids in annotations", () => {
    const pvc = buildStagingPvc(run("manual__2026-01-01T00:00:00+00:00", "data-eng"), "2Gi", settings);
    expect(isDnsLabel(pvc.metadata!.name!)).toBe(true);
    expect(pvc.spec!.resources!.requests!.storage).toBe(String(2 * 2 ** 30));
    expect(pvc.spec!.storageClassName).toBeUndefined();
    expect(pvc.metadata!.annotations).toEqual({
      "leoflow.io/team": "data-eng",
      "leoflow.io/dag-id": "etl",
      "leoflow.io/run-id": "manual__2026-01-01T00:00:00+00:00",
    });
    expect(() => new PersistentVolumeClaim(pvc as never).validate()).not.toThrow();
  });
  test("the same run gets the same claim, with the storage class when set", () => {
    const a = buildStagingPvc(run("r1"), "1Gi", { ...settings, stagingStorageClass: "fast" });
    expect(buildStagingPvc(run("r1"), "5Gi", settings).metadata!.name).toBe(a.metadata!.name!);
    expect(a.spec!.storageClassName).toBe("fast");
  });
});
