/**
 * A Pro follower's view of the scheduler (scheduler/cluster-health.ts): the leader writes its loop's last tick to the
 * store; a follower reads it and says unhealthy once it is older than the leader's own threshold plus a write's and a
 * read's interval, as when the leader is frozen (SIGSTOP keeps its lock alive). A real store, two ClusterHealths.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { ClusterHealth, HEARTBEAT_EVERY_MS, clusterSchedulerHealth, type SchedulerHealth } from "../../src/scheduler";
import { silentLogger } from "../../src/observability";
import { openStore, type Store } from "../../src/store";

let store: Store;
beforeEach(async () => {
  store = openStore("sqlite::memory:");
  await store.migrate();
});
afterEach(async () => store.close());

test("clusterSchedulerHealth: none recorded is unhealthy; fresh is healthy; past the threshold unhealthy, naming it", () => {
  const at = new Date("2026-01-01T00:00:00Z");
  expect(clusterSchedulerHealth(null, at, 20_000)).toEqual({ status: "unhealthy", latest_scheduler_heartbeat: null });
  expect(clusterSchedulerHealth({ at }, new Date(at.getTime() + 19_999), 20_000).status).toBe("healthy");
  expect(clusterSchedulerHealth({ at }, new Date(at.getTime() + 20_000), 20_000)).toEqual({
    status: "unhealthy",
    latest_scheduler_heartbeat: at.toISOString(),
  });
});

test("the leader's ticks reach a follower through the store; when they stop, the follower says unhealthy", async () => {
  let now = new Date("2026-01-01T00:00:00Z");
  let lastTick = now;
  const local = (): SchedulerHealth => ({ status: "healthy", latest_scheduler_heartbeat: lastTick.toISOString() });
  const common = { store, local, loopStaleMs: 10_000, now: () => now, logger: silentLogger };
  const leader = new ClusterHealth({ ...common, replica: "vm pid 1 http://a:8080", leading: () => true });
  const follower = new ClusterHealth({ ...common, replica: "vm pid 2 http://b:8080", leading: () => false });
  expect(await follower.health()).toEqual({ status: "unhealthy", latest_scheduler_heartbeat: null }); // no leader wrote yet

  leader.ticked(); // the first tick writes at once
  await leader.settled();
  expect(await follower.health()).toEqual({ status: "healthy", latest_scheduler_heartbeat: lastTick.toISOString() });
  expect(await store.latestSchedulerHeartbeat()).toEqual({ replica: "vm pid 1 http://a:8080", at: lastTick });

  // Ticks write at most every HEARTBEAT_EVERY_MS.
  const first = lastTick;
  now = lastTick = new Date(first.getTime() + HEARTBEAT_EVERY_MS - 1);
  leader.ticked();
  await leader.settled();
  expect((await store.latestSchedulerHeartbeat())!.at).toEqual(first);
  now = lastTick = new Date(first.getTime() + HEARTBEAT_EVERY_MS);
  leader.ticked();
  await leader.settled();
  expect((await store.latestSchedulerHeartbeat())!.at).toEqual(lastTick);

  // The leader freezes: no tick, no write. Within its threshold plus an interval the follower still trusts it.
  const frozenAt = lastTick;
  now = new Date(frozenAt.getTime() + 10_000 + HEARTBEAT_EVERY_MS - 1);
  expect((await follower.health()).status).toBe("healthy");
  now = new Date(frozenAt.getTime() + 10_000 + HEARTBEAT_EVERY_MS);
  expect(await follower.health()).toEqual({ status: "unhealthy", latest_scheduler_heartbeat: frozenAt.toISOString() });

  // It resumes: its next tick writes, and the follower is healthy again.
  lastTick = now;
  leader.ticked();
  await leader.settled();
  expect((await follower.health()).status).toBe("healthy");
  // The leader itself reports its own loop.
  expect(await leader.health()).toEqual(local());
});
