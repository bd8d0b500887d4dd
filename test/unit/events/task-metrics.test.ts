/** What each applied task transition tells the task metrics (pure). */
import { expect, test } from "bun:test";
import { observeTransition, type TaskObservation } from "../../../src/events";
import type { TaskState } from "../../../src/domain";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const ti = (queued: number | null, started: number | null) => ({
  operator: "bash",
  queued_at: queued === null ? null : at(queued),
  start_date: started === null ? null : at(started),
});

test.each<[string, ReturnType<typeof ti>, TaskState[], TaskState, Record<string, Date>, TaskObservation]>([
  [
    "an agent registers: queued → running waited 3 s",
    ti(10, null),
    ["queued"],
    "running",
    { start_date: at(13) },
    { queuedToRunning: { operator: "bash", seconds: 3 } },
  ],
  ["an inline task starts from scheduled: no queue wait", ti(null, null), ["scheduled"], "running", { start_date: at(13) }, {}],
  [
    "success after running 20 s",
    ti(10, 13),
    ["running"],
    "success",
    { end_date: at(33) },
    { finished: { operator: "bash", state: "success", seconds: 20 } },
  ],
  [
    "failed, with the end time taken from now",
    ti(10, 13),
    ["running"],
    "failed",
    {},
    { finished: { operator: "bash", state: "failed", seconds: 47 } },
  ],
  [
    "upstream_failed never ran: counted, no duration",
    ti(null, null),
    ["none"],
    "upstream_failed",
    {},
    { finished: { operator: "bash", state: "upstream_failed", seconds: null } },
  ],
  ["a retry is not final", ti(10, 13), ["failed"], "up_for_retry", {}, {}],
  ["queued is nothing yet", ti(null, null), ["scheduled"], "queued", { queued_at: at(5) }, {}],
])("%s", (_, record, from, to, patch, expected) => {
  expect(observeTransition(record, { from, to, patch }, at(60))).toEqual(expected);
});
