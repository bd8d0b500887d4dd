/** The grid's one cell per task: a mapped task's instances folded into one with their count, their states counted and the telling state. */
import { expect, test } from "bun:test";
import { byTask, describeMapped } from "../../../src/ui/app/mapped";
import type { TaskInstance } from "../../../src/ui/app/types";

const ti = (task_id: string, map_index: number, state: string | null): TaskInstance =>
  ({ task_id, map_index, state, dag_id: "d", dag_run_id: "r", try_number: 1, max_tries: 0 }) as TaskInstance;

test.each<[string, TaskInstance[], Record<string, [string | null, number | undefined, string]>]>([
  ["unmapped tasks pass through", [ti("a", -1, "success"), ti("b", -1, null)], { a: ["success", undefined, ""], b: [null, undefined, ""] }],
  [
    "a mapped task: its count, running wins",
    [ti("m", 0, "success"), ti("m", 1, "running"), ti("m", 2, "failed")],
    { m: ["running", 3, "running×1, failed×1, success×1"] },
  ],
  [
    "a mapped task: failed beats success",
    [ti("m", 0, "success"), ti("m", 1, "failed"), ti("m", 2, "success")],
    { m: ["failed", 3, "failed×1, success×2"] },
  ],
  ["one instance is still a mapped cell", [ti("m", 0, "success")], { m: ["success", 1, "success×1"] }],
  [
    "instances a re-expansion removed are left out of the count",
    [ti("m", 0, "success"), ti("m", 1, "success"), ti("m", 2, "removed"), ti("m", 3, "removed")],
    { m: ["success", 2, "success×2"] },
  ],
  [
    "cleared whole: the instance back at -1 is the cell, not the removed ones",
    [ti("m", 1, "removed"), ti("m", -1, null), ti("m", 2, "removed")],
    { m: [null, undefined, ""] },
  ],
  ["instances not yet scheduled count as none", [ti("m", 0, null), ti("m", 1, "queued")], { m: ["queued", 2, "queued×1, none×1"] }],
])("%s", (_, items, expected) => {
  const cells = byTask(items);
  expect(Object.fromEntries([...cells].map(([id, c]) => [id, [c.state, c.mapped_count, describeMapped(c)]]))).toEqual(expected);
});
