/**
 * RunCreation: the loop's turns of creating due runs, one at a time, each arming the timer for the next slot,
 * and what a turn tells the loop about run ends. A stub creator records what each turn asked.
 */
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../../../src/observability";
import type { DueRunCreator } from "../../../src/scheduler/loop";
import { RunCreation } from "../../../src/scheduler/run-creation";
import { FakeClock } from "../../support/clock";

function setup(answer: (now: Date) => Promise<Awaited<ReturnType<DueRunCreator["createDueRuns"]>>>) {
  const clock = new FakeClock();
  const t0 = clock.now().getTime();
  const asked: number[] = [];
  const armed: number[] = [];
  const creation = new RunCreation({
    creator: { createDueRuns: (now) => (asked.push(now.getTime() - t0), answer(now)) },
    clock,
    logger: silentLogger,
    armAt: (at) => void armed.push(at - t0),
  });
  return { clock, t0, asked, armed, creation };
}

const nextSecond = async (now: Date) => ({ created: [], nextDueAt: new Date(Math.floor(now.getTime() / 1000) * 1000 + 1000) });

describe("RunCreation", () => {
  test("turns run one at a time, in the order asked", async () => {
    let inFlight = 0;
    let most = 0;
    const { asked, creation } = setup(async (now) => {
      most = Math.max(most, ++inFlight);
      await new Promise<void>((resolve) => setImmediate(resolve));
      inFlight--;
      return { created: [now.getTime()], nextDueAt: null };
    });
    const turns = [creation.create(), creation.create(), creation.create()];
    expect(creation.busy).toBe(true);
    await Promise.all(turns);
    await creation.idle();
    expect(most).toBe(1);
    expect(asked).toHaveLength(3);
    expect(creation.busy).toBe(false);
  });

  test("the latest turn asked for arms the timer for the next slot; a tick's older time gives way to the clock's", async () => {
    const { clock, t0, asked, armed, creation } = setup(nextSecond);
    clock.advance(5_000);
    await creation.create(); // the slot at 5 s
    await creation.create(new Date(t0 + 4_990)); // a sweep that read the time just before it
    await creation.create(new Date(t0 + 5_000));
    expect(asked).toEqual([5_000, 5_000, 5_000]);
    expect(armed).toEqual([6_000, 6_000, 6_000]); // never the slot already past
    // A sweep's turn that began before the slot at 6 s, and the slot's own turn asked for meanwhile.
    const sweep = creation.create(new Date(t0 + 5_990));
    clock.advance(1_000);
    await Promise.all([sweep, creation.create()]);
    expect(asked).toEqual([5_000, 5_000, 5_000, 5_990, 6_000]);
    expect(armed).toEqual([6_000, 6_000, 6_000, 7_000]); // not 6 s again, for a turn that would find nothing
  });

  test("run ends matter until a turn says no DAG waits for room; a failed turn creates nothing and arms nothing", async () => {
    let waiting: boolean | undefined;
    let fail = false;
    const { armed, creation } = setup(async (now) => {
      if (fail) throw new Error("the store is down");
      return { ...(await nextSecond(now)), waitingForRoom: waiting };
    });
    expect(creation.wantsRunEnds).toBe(true); // before any turn
    waiting = false;
    await creation.create();
    expect(creation.wantsRunEnds).toBe(false);
    waiting = true;
    await creation.create();
    expect(creation.wantsRunEnds).toBe(true);
    waiting = undefined; // a creator that does not say
    await creation.create();
    expect(creation.wantsRunEnds).toBe(true);
    fail = true;
    expect(await creation.create()).toEqual([]);
    expect(armed).toHaveLength(3);
  });
});
