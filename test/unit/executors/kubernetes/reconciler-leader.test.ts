/**
 * The KubernetesReconciler acts on the leader only: a follower lists, watches and deletes nothing, even when
 * asked for a pass; a replica that becomes leader reconciles at once (a start-up pass, then the watch), not at
 * the next resync. Against a KubeClient fake that counts calls; the resync interval is far beyond the test.
 */
import { describe, expect, test } from "bun:test";
import type { V1Pod } from "@kubernetes/client-node";
import { KubernetesReconciler, LABEL, MANAGED_BY } from "../../../../src/executors/kubernetes";
import type { KubeClient } from "../../../../src/executors/kubernetes/client";
import { silentLogger } from "../../../../src/observability";

/** A running pod of a try the store does not know: a start-up pass deletes it. */
const leftover: V1Pod = {
  metadata: {
    name: "lf-i1-etl-t-7-1",
    labels: { [LABEL.managedBy]: MANAGED_BY, [LABEL.instance]: "i1", [LABEL.tiId]: "7", [LABEL.try]: "1" },
    creationTimestamp: new Date("2026-01-01T00:00:00Z"),
  },
  status: { phase: "Running" },
};

function fakeCluster() {
  const calls: string[] = [];
  let deleted: () => void = () => {};
  const podDeleted = new Promise<void>((resolve) => (deleted = resolve));
  let watched: () => void = () => {};
  const watching = new Promise<void>((resolve) => (watched = resolve));
  const kube = {
    server: "https://fake",
    async listPods() {
      calls.push("list pods");
      return { pods: [leftover], resourceVersion: "1" };
    },
    async watchPods() {
      calls.push("watch pods");
      setTimeout(watched, 0); // once the reconciler holds the watch it is handed

      return { stop: () => calls.push("stop watch") };
    },
    async listSecrets() {
      return [];
    },
  } as unknown as KubeClient;
  const deletePod = async (name: string) => {
    calls.push(`delete ${name}`);
    deleted();
  };
  return { kube, calls, deletePod, podDeleted, watching };
}

function reconciler(cluster: ReturnType<typeof fakeCluster>, isLeader: () => boolean) {
  return new KubernetesReconciler({
    kube: cluster.kube,
    store: {
      getTaskInstanceById: async () => null,
      applyTransitions: async () => [],
      lastLogSeq: async () => -1,
      appendLogs: async () => {},
    },
    logger: silentLogger,
    instance: "i1",
    deletePod: cluster.deletePod,
    graceMs: 1000,
    pendingLimitMs: 60_000,
    isLeader,
  });
}

describe("KubernetesReconciler and leadership", () => {
  test("a follower's reconciler lists, watches and deletes nothing, even when asked for a pass", async () => {
    const cluster = fakeCluster();
    const r = reconciler(cluster, () => false);
    r.start(3_600_000);
    expect(await r.resync({ startup: true })).toEqual({ failed: 0, deleted: 0 });
    await r.stop();
    expect(cluster.calls).toEqual([]);
  });

  test("a newly elected leader reconciles at once: a start-up pass removes leftovers, then it watches", async () => {
    const cluster = fakeCluster();
    let leading = false;
    const r = reconciler(cluster, () => leading);
    r.start(3_600_000); // the next resync is an hour away
    leading = true;
    r.leadershipChanged(true);
    await Promise.all([cluster.podDeleted, cluster.watching]);
    await r.stop();
    expect(cluster.calls.slice(0, 2)).toEqual(["list pods", `delete ${leftover.metadata!.name}`]);
    expect(cluster.calls).toContain("watch pods");
  });

  test("stepping down stops the watch", async () => {
    const cluster = fakeCluster();
    let leading = true;
    const r = reconciler(cluster, () => leading);
    r.start(3_600_000);
    await cluster.watching;
    leading = false;
    r.leadershipChanged(false);
    expect(cluster.calls.at(-1)).toBe("stop watch");
    await r.stop();
  });
});
