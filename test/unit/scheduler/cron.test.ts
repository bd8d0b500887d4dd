/** Slot arithmetic as tables: Airflow's data intervals, catchup, end_date, @once and DST. */
import { describe, expect, test } from "bun:test";
import { dueSlots, nextDueAt, slotsBetween, type ScheduleInput } from "../../../src/scheduler/cron";

const d = (s: string) => new Date(s);
/** Slots as "start → end" strings in UTC, so a table row shows the intervals a user would see. */
const show = (slots: { data_interval_start: Date; data_interval_end: Date }[]) =>
  slots.map((s) => `${s.data_interval_start.toISOString().slice(0, 16)} → ${s.data_interval_end.toISOString().slice(0, 16)}`);

const base: ScheduleInput = {
  schedule: "@daily",
  timezone: "UTC",
  start_date: "2026-01-01T00:00:00Z",
  catchup: true,
  latest_logical_date: null,
};

describe("dueSlots", () => {
  const cases: { name: string; input: Partial<ScheduleInput>; now: string; want: string[] }[] = [
    {
      name: "first run, no history, catchup: every complete day since start_date, oldest first",
      input: {},
      now: "2026-01-03T12:00:00Z",
      want: ["2026-01-01T00:00 → 2026-01-02T00:00", "2026-01-02T00:00 → 2026-01-03T00:00"],
    },
    {
      name: "first run, no history, no catchup: only the latest complete interval",
      input: { catchup: false },
      now: "2026-01-03T12:00:00Z",
      want: ["2026-01-02T00:00 → 2026-01-03T00:00"],
    },
    {
      name: "a slot is due exactly at its end",
      input: { catchup: false },
      now: "2026-01-03T00:00:00Z",
      want: ["2026-01-02T00:00 → 2026-01-03T00:00"],
    },
    {
      name: "nothing before the first interval has ended",
      input: {},
      now: "2026-01-01T23:59:59Z",
      want: [],
    },
    {
      name: "start_date off a boundary: the first slot starts at the next boundary",
      input: { start_date: "2026-01-01T10:00:00Z" },
      now: "2026-01-03T12:00:00Z",
      want: ["2026-01-02T00:00 → 2026-01-03T00:00"],
    },
    {
      name: "latest run up to date: nothing due",
      input: { latest_logical_date: d("2026-01-02T00:00:00Z") },
      now: "2026-01-03T12:00:00Z",
      want: [],
    },
    {
      name: "scheduler down for a day (hourly, catchup): the 24 missed hours, oldest first",
      input: { schedule: "@hourly", latest_logical_date: d("2026-01-05T09:00:00Z") },
      now: "2026-01-06T10:30:00Z",
      want: Array.from({ length: 24 }, (_, i) => {
        const s = new Date(Date.UTC(2026, 0, 5, 10 + i));
        const e = new Date(s.getTime() + 3600_000);
        return `${s.toISOString().slice(0, 16)} → ${e.toISOString().slice(0, 16)}`;
      }),
    },
    {
      name: "scheduler down for a day (hourly, no catchup): jumps to the latest complete hour",
      input: { schedule: "@hourly", catchup: false, latest_logical_date: d("2026-01-05T09:00:00Z") },
      now: "2026-01-06T10:30:00Z",
      want: ["2026-01-06T09:00 → 2026-01-06T10:00"],
    },
    {
      name: "end_date stops the slots: no slot starts after it",
      input: { end_date: "2026-01-02T00:00:00Z" },
      now: "2026-01-10T00:00:00Z",
      want: ["2026-01-01T00:00 → 2026-01-02T00:00", "2026-01-02T00:00 → 2026-01-03T00:00"],
    },
    {
      name: "start_date in the future, no catchup: nothing yet",
      input: { catchup: false, start_date: "2026-02-01T00:00:00Z" },
      now: "2026-01-10T00:00:00Z",
      want: [],
    },
    {
      name: "no start_date with catchup: behaves as catchup=false",
      input: { start_date: null },
      now: "2026-01-10T06:00:00Z",
      want: ["2026-01-09T00:00 → 2026-01-10T00:00"],
    },
    {
      name: "Europe/Paris daily at 02:30 across spring forward: the gap day runs at 03:00 local, a 23.5h interval",
      input: { schedule: "30 2 * * *", timezone: "Europe/Paris", start_date: "2026-03-27T00:00:00Z" },
      now: "2026-03-30T12:00:00Z",
      want: ["2026-03-27T01:30 → 2026-03-28T01:30", "2026-03-28T01:30 → 2026-03-29T01:00", "2026-03-29T01:00 → 2026-03-30T00:30"],
    },
    {
      name: "Europe/Paris daily at 02:30 across fall back: the repeated 02:30 runs once (a 25h interval)",
      input: { schedule: "30 2 * * *", timezone: "Europe/Paris", start_date: "2026-10-24T00:00:00Z" },
      now: "2026-10-27T00:00:00Z",
      want: ["2026-10-24T00:30 → 2026-10-25T00:30", "2026-10-25T00:30 → 2026-10-26T01:30"],
    },
    {
      name: "Europe/Paris hourly across fall back: both 02:00 hours are slots, no gap, no overlap",
      input: { schedule: "@hourly", timezone: "Europe/Paris", start_date: "2026-10-24T23:00:00Z" },
      now: "2026-10-25T03:00:00Z",
      want: [
        "2026-10-24T23:00 → 2026-10-25T00:00",
        "2026-10-25T00:00 → 2026-10-25T01:00",
        "2026-10-25T01:00 → 2026-10-25T02:00",
        "2026-10-25T02:00 → 2026-10-25T03:00",
      ],
    },
    {
      name: "America/New_York midnight across spring forward: a 23h interval",
      input: { timezone: "America/New_York", start_date: "2026-03-07T05:00:00Z" },
      now: "2026-03-09T12:00:00Z",
      want: ["2026-03-07T05:00 → 2026-03-08T05:00", "2026-03-08T05:00 → 2026-03-09T04:00"],
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      expect(show(dueSlots({ ...base, ...c.input }, d(c.now)))).toEqual(c.want);
    });

  test("per-second slots are one second long, logical_date = start", () => {
    const slots = dueSlots(
      { ...base, schedule: "* * * * * *", latest_logical_date: d("2026-01-01T00:00:01Z") },
      d("2026-01-01T00:00:04.300Z"),
    );
    expect(slots.map((s) => [s.logical_date.toISOString(), s.run_after.toISOString()])).toEqual([
      ["2026-01-01T00:00:02.000Z", "2026-01-01T00:00:03.000Z"],
      ["2026-01-01T00:00:03.000Z", "2026-01-01T00:00:04.000Z"],
    ]);
  });

  test("asked again, the same schedule answers the same, whatever a caller did to the Dates it got", () => {
    const input = { ...base, schedule: "*/5 * * * *", timezone: "Europe/Berlin", catchup: false };
    const first = dueSlots(input, d("2026-03-29T01:07:00Z"));
    for (const s of first) s.run_after.setTime(0), s.logical_date.setTime(0);
    expect(show(dueSlots(input, d("2026-03-29T01:07:00Z")))).toEqual(["2026-03-29T01:00 → 2026-03-29T01:05"]);
    expect(show(dueSlots(input, d("2026-03-29T01:12:00Z")))).toEqual(["2026-03-29T01:05 → 2026-03-29T01:10"]);
    expect(nextDueAt(input, d("2026-03-29T01:12:00Z"))).toEqual(d("2026-03-29T01:15:00Z"));
  });

  test("the limit bounds a long catchup and keeps the oldest", () => {
    const slots = dueSlots({ ...base, schedule: "@hourly" }, d("2026-02-01T00:00:00Z"), 3);
    expect(show(slots)).toEqual([
      "2026-01-01T00:00 → 2026-01-01T01:00",
      "2026-01-01T01:00 → 2026-01-01T02:00",
      "2026-01-01T02:00 → 2026-01-01T03:00",
    ]);
  });

  const once: { name: string; input: Partial<ScheduleInput>; now: string; want: string[] }[] = [
    {
      name: "@once: one run at start_date once it has passed",
      input: { schedule: "@once", start_date: "2026-01-02T08:00:00Z" },
      now: "2026-01-03T00:00:00Z",
      want: ["2026-01-02T08:00 → 2026-01-02T08:00"],
    },
    {
      name: "@once: not before start_date",
      input: { schedule: "@once", start_date: "2026-01-02T08:00:00Z" },
      now: "2026-01-02T07:59:59Z",
      want: [],
    },
    {
      name: "@once: never again after its run",
      input: { schedule: "@once", latest_logical_date: d("2026-01-01T00:00:00Z") },
      now: "2026-02-01T00:00:00Z",
      want: [],
    },
    {
      name: "@once without start_date: at now (to the second)",
      input: { schedule: "@once", start_date: null },
      now: "2026-01-05T10:00:00.700Z",
      want: ["2026-01-05T10:00 → 2026-01-05T10:00"],
    },
    { name: "null schedule: manual only", input: { schedule: null }, now: "2026-02-01T00:00:00Z", want: [] },
  ];
  for (const c of once)
    test(c.name, () => {
      expect(show(dueSlots({ ...base, ...c.input }, d(c.now)))).toEqual(c.want);
    });
});

describe("nextDueAt", () => {
  const cases: { name: string; input: Partial<ScheduleInput>; now: string; want: string | null }[] = [
    { name: "daily: the end of the current interval", input: {}, now: "2026-01-03T12:00:00Z", want: "2026-01-04T00:00:00.000Z" },
    { name: "on a boundary: the next one", input: {}, now: "2026-01-03T00:00:00Z", want: "2026-01-04T00:00:00.000Z" },
    {
      name: "before start_date: the end of the first slot",
      input: { start_date: "2026-02-01T00:00:00Z" },
      now: "2026-01-03T12:00:00Z",
      want: "2026-02-02T00:00:00.000Z",
    },
    { name: "past end_date: never", input: { end_date: "2026-01-02T00:00:00Z" }, now: "2026-01-03T12:00:00Z", want: null },
    {
      name: "the slot starting at end_date is still due",
      input: { end_date: "2026-01-03T00:00:00Z" },
      now: "2026-01-03T12:00:00Z",
      want: "2026-01-04T00:00:00.000Z",
    },
    {
      name: "per-second: the next second",
      input: { schedule: "* * * * * *" },
      now: "2026-01-03T12:00:00.250Z",
      want: "2026-01-03T12:00:01.000Z",
    },
    {
      name: "Paris daily 02:30 on the spring-forward day",
      input: { schedule: "30 2 * * *", timezone: "Europe/Paris" },
      now: "2026-03-28T12:00:00Z",
      want: "2026-03-29T01:00:00.000Z",
    },
    {
      name: "@once before start_date: start_date",
      input: { schedule: "@once", start_date: "2026-01-05T00:00:00Z" },
      now: "2026-01-03T00:00:00Z",
      want: "2026-01-05T00:00:00.000Z",
    },
    {
      name: "@once after its run: never",
      input: { schedule: "@once", latest_logical_date: d("2026-01-01T00:00:00Z") },
      now: "2026-01-03T00:00:00Z",
      want: null,
    },
    { name: "null schedule: never", input: { schedule: null }, now: "2026-01-03T00:00:00Z", want: null },
  ];
  for (const c of cases)
    test(c.name, () => {
      expect(nextDueAt({ ...base, ...c.input }, d(c.now))?.toISOString() ?? null).toEqual(c.want);
    });
});

describe("slotsBetween (backfill ranges)", () => {
  test("logical dates within [from, to], both ends included, only ended slots", () => {
    const slots = slotsBetween("@daily", "UTC", d("2026-01-01T00:00:00Z"), d("2026-01-03T00:00:00Z"), d("2026-01-03T12:00:00Z"), 100);
    expect(show(slots)).toEqual(["2026-01-01T00:00 → 2026-01-02T00:00", "2026-01-02T00:00 → 2026-01-03T00:00"]);
  });
  test("from off a boundary starts at the next boundary", () => {
    const slots = slotsBetween("@daily", "UTC", d("2026-01-01T06:00:00Z"), d("2026-01-03T00:00:00Z"), d("2026-02-01T00:00:00Z"), 100);
    expect(show(slots)).toEqual(["2026-01-02T00:00 → 2026-01-03T00:00", "2026-01-03T00:00 → 2026-01-04T00:00"]);
  });
  test("schedules without intervals throw", () => {
    expect(() => slotsBetween(null, "UTC", d("2026-01-01"), d("2026-01-02"), d("2026-02-01"), 10)).toThrow("no periodic slots");
    expect(() => slotsBetween("@once", "UTC", d("2026-01-01"), d("2026-01-02"), d("2026-02-01"), 10)).toThrow("no periodic slots");
  });
});
