/**
 * The Pro runtime's Postgres pieces against a real server: the advisory-lock leader (exclusive, lost when
 * its session is terminated, taken over by the other campaign) and the LISTEN/NOTIFY wake bus.
 */
import { afterAll, expect, test } from "bun:test";
import postgres from "postgres";
import { describePg, pgUrl, uniqueSchemaName } from "../support/postgres";
import { LeaderCampaign, PgLeaderLock, leaderLockIdFor, LEADER_LOCK_ID } from "../../src/scheduler";
import { PgWakeBus, wakeChannelFor } from "../../src/events";
import { silentLogger, type Logger } from "../../src/observability";
import { waitFor } from "../e2e/harness";

describePg("PgLeaderLock and LeaderCampaign on Postgres", () => {
  // A lock id of this test run's own, so parallel runs on one database never contend.
  const lockId = leaderLockIdFor(uniqueSchemaName());
  const admin = postgres(pgUrl(), { max: 1, onnotice: () => {} });
  const opened: PgLeaderLock[] = [];
  const lock = () => {
    const l = new PgLeaderLock(pgUrl(), { lockId });
    opened.push(l);
    return l;
  };
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
    await admin.end({ timeout: 1 });
  });

  test("the default schema keeps the fixed id; any other schema gets its own", () => {
    expect(leaderLockIdFor(undefined)).toBe(LEADER_LOCK_ID);
    expect(leaderLockIdFor("public")).toBe(LEADER_LOCK_ID);
    expect(leaderLockIdFor("tenant_a")).not.toBe(LEADER_LOCK_ID);
    expect(leaderLockIdFor("tenant_a")).toBe(leaderLockIdFor("tenant_a"));
    expect(leaderLockIdFor("tenant_a") >> 32n).toBe(LEADER_LOCK_ID >> 32n);
  });

  test("one session holds the lock; release hands it over", async () => {
    const a = lock();
    const b = lock();
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect([await a.holdsLock(), await b.holdsLock()]).toEqual([true, false]);
    await a.release();
    expect(await a.holdsLock()).toBe(false);
    expect(await b.tryAcquire()).toBe(true);
    await b.release();
  });

  test("a terminated session loses the lock: the leader steps down and the other campaign takes over", async () => {
    const loops = { a: [] as string[], b: [] as string[] };
    const target = (log: string[]) => ({ start: () => void log.push("start"), stop: async () => void log.push("stop") });
    const a = new LeaderCampaign({ lock: lock(), loop: target(loops.a), logger: silentLogger, pollMs: 1000 });
    const b = new LeaderCampaign({ lock: lock(), loop: target(loops.b), logger: silentLogger, pollMs: 1000 });
    await a.step();
    await b.step();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);

    // Kill a's session server-side, as a network partition or idle reaper would.
    const [row] = await admin<{ pid: number }[]>`
      select pid from pg_locks where locktype = 'advisory' and granted
        and classid = ${Number(lockId >> 32n)}::oid and objid = ${Number(lockId & 0xffffffffn)}::oid`;
    await admin`select pg_terminate_backend(${row!.pid})`;
    await a.step(); // its check fails or finds a new session without the lock: either way it steps down
    expect(a.isLeader).toBe(false);
    expect(loops.a).toEqual(["start", "stop"]);
    const steps = a.stats().step_downs;
    expect(steps.lock_lost + steps.check_failed).toBe(1);

    await b.step();
    expect(b.isLeader).toBe(true);
    expect(loops.b).toEqual(["start"]);
    await a.step();
    expect(a.isLeader).toBe(false);
    await b.stop(); // frees the lock at once
    await a.step();
    expect(a.isLeader).toBe(true);
    expect(a.stats().last_reacquire_ms).toBeGreaterThanOrEqual(0);
    await a.stop();
  });
});

describePg("deposing a frozen leader on Postgres (--leader-takeover-after)", () => {
  const lockId = leaderLockIdFor(uniqueSchemaName());
  const opened: PgLeaderLock[] = [];
  const lock = () => {
    const l = new PgLeaderLock(pgUrl(), { lockId });
    opened.push(l);
    return l;
  };
  afterAll(async () => void (await Promise.all(opened.map((l) => l.close()))));
  const AFTER = 10_000;

  test("a holder whose session and heartbeat stand still is ended after the bound; the follower leads, the old one cannot", async () => {
    // The leader: takes the lock, then goes silent as a SIGSTOPped process does (its session idles on, holding it).
    const frozen = lock();
    expect(await frozen.tryAcquire()).toBe(true);
    const beat = { replica: "vm pid 1 http://a:8080", at: new Date("2026-01-01T00:00:00Z") };
    let now = 1_000_000;
    const warnings: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (m: string, f?: Record<string, unknown>) => void warnings.push(`${m} ${JSON.stringify(f)}`),
    } as Logger;
    const started: string[] = [];
    const follower = new LeaderCampaign({
      lock: lock(),
      loop: { start: () => void started.push("start"), stop: async () => {} },
      logger,
      pollMs: 1000,
      now: () => now,
      takeover: { afterMs: AFTER, heartbeat: async () => beat },
    });
    await follower.step(); // starts timing the holder
    now += AFTER - 1;
    await follower.step();
    expect(follower.isLeader).toBe(false);
    now += 1;
    await follower.step();
    expect(follower.isLeader).toBe(true);
    expect(started).toEqual(["start"]);
    expect(warnings.join("\n")).toContain("deposed a frozen scheduler leader");
    expect(warnings.join("\n")).toContain('"leader":"vm pid 1 http://a:8080"');
    // The old leader, thawed, finds out before anything else: its check fails or finds a session without the lock.
    expect(await frozen.holdsLock().catch(() => false)).toBe(false);
    await follower.stop();
  });

  test("a leader that keeps checking its lock (a long tick, no heartbeat written) is never deposed", async () => {
    const busy = lock();
    expect(await busy.tryAcquire()).toBe(true);
    let now = 0;
    const follower = new LeaderCampaign({
      lock: lock(),
      loop: { start: () => {}, stop: async () => {} },
      logger: silentLogger,
      pollMs: 1000,
      now: () => now,
      takeover: { afterMs: AFTER, heartbeat: async () => null },
    });
    for (let i = 0; i < 5; i++) {
      await follower.step();
      expect(await busy.holdsLock()).toBe(true); // its campaign's check between the follower's looks
      await Bun.sleep(2); // pg_stat_activity's state_change has microseconds; a new statement is a new value
      now += AFTER;
    }
    expect(follower.isLeader).toBe(false);
    expect(await busy.holdsLock()).toBe(true);
    await busy.release();
    await follower.stop();
  });
});

describePg("PgWakeBus on Postgres", () => {
  const channel = wakeChannelFor(uniqueSchemaName());
  const buses: PgWakeBus[] = [];
  afterAll(async () => void (await Promise.all(buses.map((b) => b.close()))));
  const bus = async (received: (number | undefined)[], leading?: () => boolean) => {
    const b = new PgWakeBus({ url: pgUrl(), channel, logger: silentLogger as Logger, leading });
    b.subscribe((id) => received.push(id));
    await b.start();
    buses.push(b);
    received.length = 0; // drop the sweep every (re)connect of the listener asks for
    return b;
  };

  test("a wake-up on one replica reaches the other (and its own handler once, at once)", async () => {
    const onA: (number | undefined)[] = [];
    const onB: (number | undefined)[] = [];
    const a = await bus(onA);
    await bus(onB);
    a.wake(7);
    a.wake(8);
    a.wake(7);
    expect(onA).toEqual([7, 8, 7]);
    await waitFor(
      () => onB.length >= 2,
      5_000,
      () => `B got ${JSON.stringify(onB)}`,
    );
    expect(onB.sort()).toEqual([7, 8]); // one burst → one NOTIFY statement, duplicates folded
    a.wake();
    await waitFor(
      () => onB.length >= 3,
      5_000,
      () => `B got ${JSON.stringify(onB)}`,
    );
    expect(onB[2]).toBeUndefined(); // a full sweep
    expect(onA).toEqual([7, 8, 7, undefined]); // its own NOTIFYs are not delivered twice
  });

  test("the leader's wake-ups stay with its own loop; once it no longer leads they reach the others again", async () => {
    const onA: (number | undefined)[] = [];
    const onB: (number | undefined)[] = [];
    let leading = true;
    const a = await bus(onA, () => leading);
    await bus(onB);
    a.wake(11);
    a.wake();
    leading = false;
    a.wake(12);
    expect(onA).toEqual([11, undefined, 12]);
    await waitFor(
      () => onB.length >= 1,
      5_000,
      () => `B got ${JSON.stringify(onB)}`,
    );
    // One session's NOTIFYs arrive in the order sent: had 11 or the sweep gone out, B would have them first.
    expect(onB).toEqual([12]);
  });

  test("deployments in different schemas do not wake each other", () => {
    expect(wakeChannelFor(undefined)).toBe("leoflow_wake");
    expect(wakeChannelFor("tenant_a")).not.toBe(wakeChannelFor("tenant_b"));
    expect(wakeChannelFor("x".repeat(63)).length).toBeLessThan(64);
  });
});
