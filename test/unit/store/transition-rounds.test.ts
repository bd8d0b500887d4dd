/** collapseAll and nextMoves: a chain's next task's moves as one row change, as both stores write them. */
import { describe, expect, test } from "bun:test";
import type { TaskTransition } from "../../../src/domain";
import { collapseAll, nextMoves } from "../../../src/store/transition-rounds";

const at = new Date("2026-01-01T00:00:00Z");
const scheduling: TaskTransition = { id: 7, from: ["none"], to: "scheduled" };
const queued: TaskTransition = { id: 7, from: ["scheduled"], to: "queued", try_number: 1, patch: { queued_at: at } };
const start: TaskTransition = { id: 7, from: ["queued"], to: "running", try_number: 1, patch: { start_date: at, hostname: "h" } };

describe("nextMoves", () => {
  test("none → scheduled → queued, then → running when the hand-off starts it", () => {
    expect(nextMoves({ scheduling, queued })).toEqual([scheduling, queued]);
    expect(nextMoves({ scheduling, queued, start })).toEqual([scheduling, queued, start]);
  });
});

describe("collapseAll", () => {
  test("the moves as one transition from the first's states to the last's, with every patch and the try guard", () => {
    expect(collapseAll([scheduling, queued, start])).toEqual({
      id: 7,
      from: ["none"],
      to: "running",
      try_number: 1,
      patch: { queued_at: at, start_date: at, hostname: "h" },
    });
  });
  test("one move is itself; none is null; a move that cannot follow the one before is null", () => {
    expect(collapseAll([scheduling])).toEqual(scheduling);
    expect(collapseAll([])).toBeNull();
    expect(collapseAll([scheduling, start])).toBeNull();
  });
});
