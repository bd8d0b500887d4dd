/**
 * The loop's own wake-ups on a fake clock: the periodic sweep, timed wake-ups for runs sharing one timer,
 * and what a stop forgets.
 */
import { describe, expect, test } from "bun:test";
import { WakeTimer, type WakeRequest } from "../../../src/scheduler/wake-timer";
import { FakeClock } from "../../support/clock";

function timer(sweepIntervalMs = 60_000) {
  const clock = new FakeClock();
  const t0 = clock.now().getTime();
  const woken: string[] = [];
  const wake = new WakeTimer(
    clock,
    sweepIntervalMs,
    (r: WakeRequest) => void woken.push(`${r.kind === "runs" ? `runs ${r.ids.join(",")}` : r.kind}@${clock.now().getTime() - t0}`),
  );
  return { clock, t0, woken, wake };
}

describe("WakeTimer", () => {
  test("sweeps every interval while started", () => {
    const { clock, woken, wake } = timer(5_000);
    wake.start();
    clock.advance(15_000);
    wake.stop();
    clock.advance(15_000);
    expect(woken).toEqual(["sweep@5000", "sweep@10000", "sweep@15000"]);
  });

  test("wakes each run at its earliest asked time, runs due together in one request, with one timer pending", () => {
    const { clock, t0, woken, wake } = timer();
    wake.start();
    wake.armRun(1, t0 + 3_000);
    wake.armRun(2, t0 + 1_000);
    wake.armRun(3, t0 + 1_000);
    wake.armRun(1, t0 + 2_000); // earlier: replaces 3 s
    wake.armRun(2, t0 + 9_000); // later: ignored
    wake.armCreate(t0 + 2_000); // the next cron slot
    wake.armCreate(t0 + 4_000); // later: ignored
    clock.advance(5_000);
    expect(woken).toEqual(["runs 2,3@1000", "create@2000", "runs 1@2000"]); // the slot's runs first
    expect(clock.nextTimerAt()).toBe(t0 + 60_000); // only the periodic sweep is left
  });

  test("a wake-up asked for while stopped is armed at start; a stop forgets those pending", () => {
    const { clock, t0, woken, wake } = timer();
    wake.armRun(7, t0 + 1_000); // a tick that ran before start (or after stop)
    wake.start();
    clock.advance(1_000);
    expect(woken).toEqual(["runs 7@1000"]);
    wake.armRun(8, t0 + 5_000);
    wake.stop();
    wake.start();
    wake.armRun(8, t0 + 6_000); // not blocked by the forgotten 5 s entry
    clock.advance(10_000);
    expect(woken).toEqual(["runs 7@1000", "runs 8@6000"]);
  });

  test("runs whose time has come are due for a sweep even before the timer fires", () => {
    const { t0, wake } = timer();
    wake.armRun(1, t0 + 1_000);
    wake.armRun(2, t0 + 5_000);
    expect(wake.dueRuns(t0 + 1_000)).toEqual([1]);
    expect(wake.dueRuns(t0 + 5_000)).toEqual([1, 2]);
  });
});
