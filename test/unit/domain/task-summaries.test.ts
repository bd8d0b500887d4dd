/**
 * The grid's one summary per task (pure): an unmapped task's task instance as it is; a mapped task's instances,
 * handed over grouped by state, folded into their count, their states counted (most telling first) and the
 * telling state, spanning the first start to the last end once every instance has ended.
 */
import { expect, test } from "bun:test";
import { summarizeTaskInstances, type MappedStateGroup, type TaskState } from "../../../src/domain";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000);
const ti = (task_id: string, state: TaskState) => ({ task_id, state, try_number: 1, max_tries: 0, start_date: null, end_date: null });
/** `count` instances of `task_id` in `state`; started at `start`, ended at `end` when given (all of them). */
const group = (
  task_id: string,
  state: TaskState,
  count: number,
  times: { start?: number; end?: number; try?: number } = {},
): MappedStateGroup => ({
  task_id,
  state,
  count,
  try_number: times.try ?? 1,
  max_tries: 2,
  start_date: times.start === undefined ? null : at(times.start),
  end_date: times.end === undefined ? null : at(times.end),
  ended: times.end === undefined ? 0 : count,
});

test.each<
  [string, ReturnType<typeof ti>[], MappedStateGroup[], Record<string, [TaskState, number | undefined, Record<string, number> | undefined]>]
>([
  [
    "unmapped tasks pass through",
    [ti("a", "success"), ti("b", "none")],
    [],
    { a: ["success", undefined, undefined], b: ["none", undefined, undefined] },
  ],
  [
    "a mapped task: its count, running wins",
    [],
    [group("m", "success", 1), group("m", "running", 1), group("m", "failed", 1)],
    { m: ["running", 3, { running: 1, failed: 1, success: 1 }] },
  ],
  [
    "a mapped task: failed beats success",
    [],
    [group("m", "success", 2), group("m", "failed", 1)],
    { m: ["failed", 3, { failed: 1, success: 2 }] },
  ],
  ["one instance is still a mapped cell", [], [group("m", "success", 1)], { m: ["success", 1, { success: 1 }] }],
  [
    "instances a re-expansion removed are left out of the count",
    [],
    [group("m", "success", 2), group("m", "removed", 2)],
    { m: ["success", 2, { success: 2 }] },
  ],
  [
    "cleared whole: the instance back at -1 is the cell, not the removed ones",
    [ti("m", "none")],
    [group("m", "removed", 2)],
    { m: ["none", undefined, undefined] },
  ],
  ["all removed and nothing at -1: the removed ones are the cell", [], [group("m", "removed", 2)], { m: ["removed", 2, { removed: 2 }] }],
  [
    "instances not yet scheduled count as none",
    [],
    [group("m", "none", 1), group("m", "queued", 1)],
    { m: ["queued", 2, { queued: 1, none: 1 }] },
  ],
  [
    "some done, some not yet scheduled: not shown done",
    [],
    [group("m", "success", 2), group("m", "none", 1)],
    { m: ["none", 3, { none: 1, success: 2 }] },
  ],
])("%s", (_, unmapped, mapped, expected) => {
  const cells = summarizeTaskInstances({ unmapped, mapped });
  expect(Object.fromEntries(cells.map((c) => [c.task_id, [c.state, c.mapped_count, c.mapped_states]]))).toEqual(expected);
});

test("a folded task spans its first start to its last end, only once every instance shown has ended", () => {
  const running = summarizeTaskInstances({
    unmapped: [],
    mapped: [
      group("m", "success", 2, { start: 5, end: 30, try: 2 }),
      group("m", "running", 1, { start: 3 }),
      group("m", "removed", 1, { start: 0, end: 99 }),
    ],
  })[0]!;
  expect(running).toMatchObject({ map_index: null, try_number: 2, max_tries: 2, start_date: at(3), end_date: null });
  const done = summarizeTaskInstances({
    unmapped: [],
    mapped: [group("m", "success", 2, { start: 5, end: 30 }), group("m", "failed", 1, { start: 3, end: 12 })],
  })[0]!;
  expect(done).toMatchObject({ state: "failed", start_date: at(3), end_date: at(30) });
  // Some instances of a state ended, some not (a state with no end, such as up_for_retry after a try): no end yet.
  const partly = summarizeTaskInstances({
    unmapped: [],
    mapped: [{ ...group("m", "up_for_retry", 2, { start: 1, end: 4 }), ended: 1 }],
  })[0]!;
  expect(partly.end_date).toBeNull();
});
