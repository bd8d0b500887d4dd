/** Deposing a frozen leader: the pure decision (scheduler/leader-takeover.ts), timeline by timeline. */
import { describe, expect, test } from "bun:test";
import { decideTakeover, type LeaderSighting, type LeaderWatch } from "../../../src/scheduler";

const AFTER = 30_000;

/** Feeds sightings at the given times (follower's clock) and returns every decision's depose flag. */
function run(timeline: [number, LeaderSighting][], afterMs = AFTER): boolean[] {
  let watch: LeaderWatch | null = null;
  return timeline.map(([now, seen]) => {
    const d = decideTakeover(watch, seen, now, afterMs);
    watch = d.watch;
    return d.depose;
  });
}

const frozen: LeaderSighting = { pid: 41, beat: 1_000, activity: 7 };

describe("decideTakeover", () => {
  test("a holder whose heartbeat and lock session stand still for the bound is deposed, not a moment before", () => {
    expect(
      run([
        [0, frozen],
        [AFTER - 1, frozen],
        [AFTER, frozen],
      ]),
    ).toEqual([false, false, true]);
  });

  test("a leader busy in a long tick still checks its lock: its session moving keeps it, whatever its heartbeat does", () => {
    const seen = (t: number): [number, LeaderSighting] => [t, { pid: 41, beat: 1_000, activity: t }];
    expect(run([seen(0), seen(20_000), seen(40_000), seen(60_000), seen(90_000)])).toEqual([false, false, false, false, false]);
  });

  test("a heartbeat that moves restarts the clock too (a role that cannot see the session's activity)", () => {
    const seen = (t: number, beat: number): [number, LeaderSighting] => [t, { pid: 41, beat, activity: null }];
    expect(run([seen(0, 1), seen(25_000, 2), seen(50_000, 2), seen(55_000, 2)])).toEqual([false, false, false, true]);
  });

  test("a new holder is timed from when it was first seen, however old the heartbeat row it finds", () => {
    const other: LeaderSighting = { pid: 42, beat: 1_000, activity: 7 };
    expect(
      run([
        [0, frozen],
        [AFTER - 1, other],
        [AFTER, other],
        [2 * AFTER - 1, other],
      ]),
    ).toEqual([false, false, false, true]);
  });

  test("a free lock clears the watch; 0 never deposes", () => {
    const free: LeaderSighting = { pid: null, beat: 1_000, activity: null };
    expect(
      run([
        [0, frozen],
        [AFTER - 1, free],
        [AFTER, frozen],
        [AFTER * 2 - 1, frozen],
      ]),
    ).toEqual([false, false, false, false]);
    expect(
      run(
        [
          [0, frozen],
          [10 * AFTER, frozen],
        ],
        0,
      ),
    ).toEqual([false, false]);
  });

  test("a deposed holder that still holds at the next look is deposed again at once (its backend had not exited yet)", () => {
    expect(
      run([
        [0, frozen],
        [AFTER, frozen],
        [AFTER + 1000, frozen],
      ]),
    ).toEqual([false, true, true]);
  });
});
