/** The warm agent pool's pure decisions: restart back-off and which burst agents retire. */
import { expect, test } from "bun:test";
import { agentsToRetire, restartDelayMs } from "../../../src/executors";

test.each([
  [0, 0],
  [1, 250],
  [2, 500],
  [5, 4_000],
  [8, 30_000],
  [50, 30_000],
])("after %p agents in a row died before ready, the next starts in %p ms", (failures, ms) => expect(restartDelayMs(failures)).toBe(ms));

const idle = [
  { id: 1, idleSince: 1_000 },
  { id: 2, idleSince: 0 },
  { id: 3, idleSince: 9_000 },
];

test.each([
  ["no more agents than the pool size: none retire", 3, 3, []],
  ["one over: the longest idle (past idleMs) retires", 4, 3, [2]],
  ["two over: the two longest idle", 5, 3, [2, 1]],
  ["more over than idle long enough: only those past idleMs", 9, 3, [2, 1]],
])("%s", (_, total, size, want) => expect(agentsToRetire(idle, total, size, 10_000, 5_000)).toEqual(want));

test("agents idle for less than idleMs stay, so a burst keeps its agents between tries", () => {
  expect(agentsToRetire(idle, 6, 1, 9_500, 10_000)).toEqual([]);
});
