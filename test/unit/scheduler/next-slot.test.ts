/**
 * nextSlot (what the API shows as a DAG's next_dagrun_*) as tables, and against the scheduler's own slot functions:
 * it is dueSlots' first slot whenever one is due, else the slot nextDueAt wakes the scheduler for, and walking
 * a schedule by it creates exactly the runs dueSlots creates.
 */
import { describe, expect, test } from "bun:test";
import { dueSlots, nextDueAt, nextSlot, type ScheduleInput, type Slot } from "../../../src/scheduler/cron";

const d = (s: string) => new Date(s);
const show = (s: Slot | null) =>
  s &&
  `${s.data_interval_start.toISOString().slice(0, 16)} → ${s.data_interval_end.toISOString().slice(0, 16)} due ${s.run_after.toISOString().slice(0, 16)}`;

const base: ScheduleInput = {
  schedule: "@daily",
  timezone: "UTC",
  start_date: "2026-01-01T00:00:00Z",
  catchup: true,
  latest_logical_date: null,
};

describe("nextSlot", () => {
  const cases: { name: string; input: Partial<ScheduleInput>; now: string; want: string | null }[] = [
    {
      name: "catchup, no runs: the first slot since start_date, due already",
      input: {},
      now: "2026-01-03T12:00:00Z",
      want: "2026-01-01T00:00 → 2026-01-02T00:00 due 2026-01-02T00:00",
    },
    {
      name: "catchup, runs behind: the oldest missing slot",
      input: { latest_logical_date: d("2026-01-01T00:00:00Z") },
      now: "2026-01-05T12:00:00Z",
      want: "2026-01-02T00:00 → 2026-01-03T00:00 due 2026-01-03T00:00",
    },
    {
      name: "up to date: the current interval, due at its end",
      input: { latest_logical_date: d("2026-01-02T00:00:00Z") },
      now: "2026-01-03T12:00:00Z",
      want: "2026-01-03T00:00 → 2026-01-04T00:00 due 2026-01-04T00:00",
    },
    {
      name: "no catchup, no runs: the latest complete interval",
      input: { catchup: false },
      now: "2026-01-05T12:00:00Z",
      want: "2026-01-04T00:00 → 2026-01-05T00:00 due 2026-01-05T00:00",
    },
    {
      name: "no catchup, runs behind: skips to the latest complete interval",
      input: { catchup: false, latest_logical_date: d("2026-01-01T00:00:00Z") },
      now: "2026-01-05T12:00:00Z",
      want: "2026-01-04T00:00 → 2026-01-05T00:00 due 2026-01-05T00:00",
    },
    {
      name: "start_date in the future: the first slot, due at its end",
      input: { start_date: "2026-02-01T00:00:00Z" },
      now: "2026-01-05T12:00:00Z",
      want: "2026-02-01T00:00 → 2026-02-02T00:00 due 2026-02-02T00:00",
    },
    {
      name: "a slot starting at end_date is the last one",
      input: { end_date: "2026-01-03T00:00:00Z", latest_logical_date: d("2026-01-02T00:00:00Z") },
      now: "2026-01-09T00:00:00Z",
      want: "2026-01-03T00:00 → 2026-01-04T00:00 due 2026-01-04T00:00",
    },
    {
      name: "past end_date: none",
      input: { end_date: "2026-01-03T00:00:00Z", latest_logical_date: d("2026-01-03T00:00:00Z") },
      now: "2026-01-09T00:00:00Z",
      want: null,
    },
    { name: "no schedule: none", input: { schedule: null }, now: "2026-01-09T00:00:00Z", want: null },
    {
      name: "@once before its run: at start_date",
      input: { schedule: "@once", start_date: "2026-01-10T00:00:00Z" },
      now: "2026-01-09T00:00:00Z",
      want: "2026-01-10T00:00 → 2026-01-10T00:00 due 2026-01-10T00:00",
    },
    {
      name: "@once after its run: none",
      input: { schedule: "@once", latest_logical_date: d("2026-01-01T00:00:00Z") },
      now: "2026-01-09T00:00:00Z",
      want: null,
    },
    {
      name: "a cron in a timezone: the boundaries of that timezone (Paris is UTC+1 in January)",
      input: { schedule: "0 6 * * *", timezone: "Europe/Paris", latest_logical_date: d("2026-01-04T05:00:00Z") },
      now: "2026-01-05T12:00:00Z",
      want: "2026-01-05T05:00 → 2026-01-06T05:00 due 2026-01-06T05:00",
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      expect(show(nextSlot({ ...base, ...c.input }, d(c.now)))).toBe(c.want);
    });
});

describe("nextSlot agrees with the scheduler", () => {
  const schedules: Partial<ScheduleInput>[] = [
    {},
    { catchup: false },
    { schedule: "@hourly", catchup: false },
    { schedule: "*/20 9-17 * * 1-5", timezone: "America/New_York", catchup: true, start_date: "2026-03-06T00:00:00Z" },
    // Across the spring DST change in Paris (2026-03-29): a 23-hour day.
    { schedule: "@daily", timezone: "Europe/Paris", start_date: "2026-03-26T00:00:00+01:00", catchup: true },
    { schedule: "@weekly", catchup: false, end_date: "2026-04-01T00:00:00Z" },
  ];

  test("walking a schedule: each next slot is the run the scheduler creates when it becomes due", () => {
    for (const over of schedules) {
      const input: ScheduleInput = { ...base, start_date: "2026-03-01T00:00:00Z", ...over };
      let now = d("2026-03-10T07:13:00Z");
      for (let step = 0; step < 40; step++) {
        const next = nextSlot(input, now);
        const due = dueSlots(input, now, 1);
        if (due.length) {
          // Due already: the very slot the scheduler creates now.
          expect(next).toEqual(due[0]!);
        } else {
          // Not due yet: the slot the scheduler's timer wakes it for (nextDueAt), and nothing before it.
          expect(next?.run_after ?? null).toEqual(nextDueAt(input, now));
          if (!next) break;
          now = next.run_after;
          expect(dueSlots(input, now, 1)).toEqual([next]);
        }
        input.latest_logical_date = next!.logical_date;
      }
    }
  });
});
