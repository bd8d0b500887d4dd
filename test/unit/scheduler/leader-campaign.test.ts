/** The leadership campaign: the pure decision table, and the shell driven step by step over a fake lock. */
import { describe, expect, test } from "bun:test";
import {
  INITIAL_CAMPAIGN,
  LeaderCampaign,
  decideCampaign,
  type CampaignState,
  type LeaderLock,
  type LockObservation,
} from "../../../src/scheduler";
import type { Logger } from "../../../src/observability";

const FOLLOWER: CampaignState = INITIAL_CAMPAIGN;
const LEADER: CampaignState = { role: "leader", leaderSince: 1_000, steppedDownAt: null };
const STEPPED_DOWN: CampaignState = { role: "follower", leaderSince: null, steppedDownAt: 5_000 };

describe("decideCampaign", () => {
  const cases: [string, CampaignState, LockObservation, Partial<ReturnType<typeof decideCampaign>> & { role: string }][] = [
    [
      "a follower that takes the lock leads",
      FOLLOWER,
      { kind: "acquire", acquired: true },
      { role: "leader", action: "lead", reacquiredAfterMs: undefined },
    ],
    ["a follower that finds the lock taken waits", FOLLOWER, { kind: "acquire", acquired: false }, { role: "follower", action: undefined }],
    [
      "a follower whose attempt errored waits and says why",
      FOLLOWER,
      { kind: "acquire", acquired: false, error: "ECONNREFUSED" },
      { role: "follower", action: undefined },
    ],
    ["a leader still holding the lock keeps leading", LEADER, { kind: "check", held: true }, { role: "leader", action: undefined }],
    [
      "a leader whose session lost the lock steps down",
      LEADER,
      { kind: "check", held: false },
      { role: "follower", action: "step_down", reason: "lock_lost" },
    ],
    [
      "a leader whose check errored counts as lost",
      LEADER,
      { kind: "check", held: false, error: "read ECONNRESET" },
      { role: "follower", action: "step_down", reason: "check_failed" },
    ],
    [
      "a re-acquire after a step-down measures the gap",
      STEPPED_DOWN,
      { kind: "acquire", acquired: true },
      { role: "leader", action: "lead", reacquiredAfterMs: 2_000 },
    ],
    ["shutdown releases leadership", LEADER, { kind: "shutdown" }, { role: "follower", action: "step_down", reason: "shutdown" }],
    ["shutdown of a follower changes nothing", FOLLOWER, { kind: "shutdown" }, { role: "follower", action: undefined }],
    [
      "a stale check result reaching a follower is ignored",
      FOLLOWER,
      { kind: "check", held: false },
      { role: "follower", action: undefined },
    ],
  ];
  for (const [name, state, seen, want] of cases)
    test(name, () => {
      const d = decideCampaign(state, seen, 7_000);
      expect(d.state.role).toBe(want.role as "leader" | "follower");
      expect(d.action).toBe(want.action);
      if ("reason" in want) expect(d.reason).toBe(want.reason);
      if ("reacquiredAfterMs" in want) expect(d.reacquiredAfterMs).toBe(want.reacquiredAfterMs);
    });

  test("a step-down logs at WARN and is remembered for the next re-acquire", () => {
    const d = decideCampaign(LEADER, { kind: "check", held: false }, 9_000);
    expect(d.log?.level).toBe("warn");
    expect(d.log?.message).toContain("stepping down");
    expect(d.state.steppedDownAt).toBe(9_000);
  });
});

/** A lock another replica can steal and whose connection can break. */
class FakeLock implements LeaderLock {
  holder: "us" | "them" | null = null;
  broken = false;
  released = 0;
  async tryAcquire() {
    if (this.broken) throw new Error("connection refused");
    if (this.holder === null || this.holder === "us") this.holder = "us";
    return this.holder === "us";
  }
  async holdsLock() {
    if (this.broken) throw new Error("read ECONNRESET");
    return this.holder === "us";
  }
  async release() {
    this.released++;
    if (this.holder === "us") this.holder = null;
  }
}

class FakeLoop {
  running = false;
  events: string[] = [];
  start() {
    this.running = true;
    this.events.push("start");
  }
  async stop() {
    this.running = false;
    this.events.push("stop");
  }
}

function recordingLogger(lines: string[]): Logger {
  const log = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  const l: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"), child: () => l };
  return l;
}

function setup() {
  let now = 0;
  const lock = new FakeLock();
  const loop = new FakeLoop();
  const lines: string[] = [];
  const campaign = new LeaderCampaign({ lock, loop, logger: recordingLogger(lines), pollMs: 1000, now: () => now });
  return { lock, loop, lines, campaign, advance: (ms: number) => (now += ms) };
}

describe("LeaderCampaign over a fake lock", () => {
  test("acquire, hold, lose → step down, re-acquire: the loop follows and the gap is recorded", async () => {
    const { lock, loop, lines, campaign, advance } = setup();
    lock.holder = "them";
    await campaign.step();
    expect(campaign.isLeader).toBe(false);
    expect(loop.running).toBe(false);

    lock.holder = null; // the old leader died
    await campaign.step();
    expect(campaign.isLeader).toBe(true);
    expect(loop.events).toEqual(["start"]);

    await campaign.step(); // still holds: nothing changes
    expect(loop.events).toEqual(["start"]);

    lock.holder = "them"; // our session was replaced and someone else took the lock
    advance(100);
    await campaign.step();
    expect(campaign.isLeader).toBe(false);
    expect(loop.events).toEqual(["start", "stop"]);
    expect(lines).toContain("warn stepping down: the leader lock is no longer held by this replica (its session was replaced)");

    await campaign.step(); // still taken: stays a follower
    advance(2_500);
    lock.holder = null;
    await campaign.step();
    expect(campaign.isLeader).toBe(true);
    expect(loop.events).toEqual(["start", "stop", "start"]);
    const stats = campaign.stats();
    expect(stats.acquisitions).toBe(2);
    expect(stats.step_downs).toEqual({ lock_lost: 1, check_failed: 0, shutdown: 0 });
    expect(stats.last_reacquire_ms).toBe(2_500);
    expect(lines.at(-1)).toBe("info became scheduler leader again after 2500 ms without leadership");
  });

  test("an error while checking is treated as lost leadership", async () => {
    const { lock, loop, campaign } = setup();
    await campaign.step();
    expect(campaign.isLeader).toBe(true);
    lock.broken = true;
    await campaign.step();
    expect(campaign.isLeader).toBe(false);
    expect(loop.running).toBe(false);
    expect(campaign.stats().step_downs.check_failed).toBe(1);
    // While the database is unreachable it keeps campaigning without leading.
    await campaign.step();
    expect(campaign.isLeader).toBe(false);
    lock.broken = false;
    await campaign.step();
    expect(campaign.isLeader).toBe(true);
  });

  test("the tick guard says false once the lock is gone, and the campaign steps down", async () => {
    const { lock, loop, campaign } = setup();
    expect(await campaign.guard()).toBe(false); // a follower never ticks
    await campaign.step();
    expect(await campaign.guard()).toBe(true);
    lock.holder = "them";
    expect(await campaign.guard()).toBe(false);
    await campaign.step(); // lets the step-down the guard started finish
    expect(campaign.isLeader).toBe(false);
    expect(loop.events).toEqual(["start", "stop"]);
    expect(campaign.stats().step_downs.lock_lost).toBe(1);
  });

  test("stop() stops the loop and frees the lock for the next replica", async () => {
    const { lock, loop, campaign } = setup();
    await campaign.step();
    await campaign.stop();
    expect(loop.running).toBe(false);
    expect(lock.holder).toBeNull();
    expect(campaign.stats().step_downs.shutdown).toBe(1);
  });
});
