/**
 * Slot arithmetic for schedules (pure: `now` is always an argument). Airflow's data-interval semantics for
 * cron strings and presets (CronDataIntervalTimetable): a slot is the interval [start, end) between two
 * consecutive cron boundaries in the DAG's timezone; its run is due at `end` and has
 * `logical_date = start`. `@once` (OnceTimetable) is one run at start_date; `null` is manual only.
 * croner evaluates cron in the DAG's timezone, so intervals stay correct across DST changes (a daily slot
 * is 23 or 25 hours long on those days).
 *
 * @example
 * dueSlots({ schedule: "@daily", timezone: "UTC", start_date: "2026-01-01T00:00:00Z", catchup: true,
 *            latest_logical_date: null }, new Date("2026-01-03T12:00:00Z"))
 * // → [2026-01-01..01-02, 2026-01-02..01-03]
 */
import { Cron } from "croner";
import { cronExpression, type DagSpec } from "../domain";

/** One schedule slot: the run's data interval; `run_after` is when it becomes due. */
export interface Slot {
  logical_date: Date;
  data_interval_start: Date;
  data_interval_end: Date;
  run_after: Date;
}

export interface ScheduleInput {
  schedule: string | null;
  timezone: string;
  /** ISO string or Date; slots start at or after it. */
  start_date?: string | Date | null;
  /** ISO string or Date; no slot starts after it. */
  end_date?: string | Date | null;
  catchup: boolean;
  /** logical_date of the DAG's latest scheduled run; null when it has none. */
  latest_logical_date: Date | null;
}

/** A DAG's schedule as the slot functions read it, given the logical_date of its latest scheduled run. */
export function scheduleInputOf(
  spec: Pick<DagSpec, "schedule" | "timezone" | "start_date" | "end_date" | "catchup">,
  latestLogicalDate: Date | null,
): ScheduleInput {
  return {
    schedule: spec.schedule,
    timezone: spec.timezone,
    start_date: spec.start_date ?? null,
    end_date: spec.end_date ?? null,
    catchup: spec.catchup,
    latest_logical_date: latestLogicalDate,
  };
}

/** How many slots one call returns at most, so a years-long catchup of a per-second cron stays bounded. */
export const DEFAULT_SLOT_LIMIT = 1000;

const toDate = (d: string | Date | null | undefined): Date | null => (d == null ? null : d instanceof Date ? d : new Date(d));

/**
 * A cron schedule's boundaries in its timezone. Each answer is remembered: croner takes ~100 µs per question,
 * and the scheduler asks every DAG's schedule the same few questions every second (DAGs sharing a schedule
 * ask the very same ones), which cost tens of ms of the event loop per call with 200 DAGs.
 */
class Boundaries {
  private readonly cron: Cron;
  private readonly answers = new Map<string, number | null>();
  constructor(expr: string, timezone: string) {
    // legacyMode (croner's default) ORs day-of-month and day-of-week like classic cron and Airflow's croniter.
    this.cron = new Cron(expr, { timezone, paused: true });
  }
  /** The first boundary strictly after `t`. */
  next(t: Date): Date | null {
    return this.remember("next", t, () => this.cron.nextRun(t));
  }
  /** The latest boundary at or before `t`. */
  atOrBefore(t: Date): Date | null {
    // croner counts a run earlier in the reference's own second as "previous"; boundaries are whole seconds.
    const floor = Math.floor(t.getTime() / 1000) * 1000;
    return this.remember("atOrBefore", new Date(floor), () => this.cron.previousRuns(1, new Date(floor + 1))[0]);
  }
  /** The latest boundary strictly before `t`. */
  before(t: Date): Date | null {
    return this.remember("before", t, () => this.cron.previousRuns(1, t)[0]);
  }
  /** A fresh Date each time (callers keep them in runs); the answers kept are bounded, the recent ones are what is asked. */
  private remember(question: string, t: Date, ask: () => Date | null | undefined): Date | null {
    const key = `${question}${t.getTime()}`;
    let at = this.answers.get(key);
    if (at === undefined) {
      if (this.answers.size >= ANSWERS_KEPT) this.answers.clear();
      at = ask()?.getTime() ?? null;
      this.answers.set(key, at);
    }
    return at === null ? null : new Date(at);
  }
  /** `t` if it is a boundary, else the next boundary. */
  atOrAfter(t: Date): Date | null {
    const prev = this.atOrBefore(t);
    return prev && prev.getTime() === t.getTime() ? prev : this.next(t);
  }
}

/** Answers kept per schedule: a few questions per DAG per call, for the DAGs sharing it. */
const ANSWERS_KEPT = 1024;
/** Schedules kept parsed: every DAG's schedule is asked again on every call. */
const SCHEDULES_KEPT = 1024;
const schedules = new Map<string, Boundaries>();

/** The parsed schedule, kept (croner parses an expression in ~70 µs). */
function boundariesOf(expr: string, timezone: string): Boundaries {
  const key = `${timezone} ${expr}`;
  let b = schedules.get(key);
  if (!b) {
    if (schedules.size >= SCHEDULES_KEPT) schedules.clear();
    b = new Boundaries(expr, timezone);
    schedules.set(key, b);
  }
  return b;
}

function interval(b: Boundaries, start: Date): Slot | null {
  const end = b.next(start);
  return end ? { logical_date: start, data_interval_start: start, data_interval_end: end, run_after: end } : null;
}

/**
 * The start of the latest complete interval at `now` (Airflow's `_skip_to_latest`), never before `first`.
 */
function latestCompleteStart(b: Boundaries, now: Date, first: Date | null): Date | null {
  const lastEnd = b.atOrBefore(now);
  const start = lastEnd ? b.before(lastEnd) : null;
  if (!start) return first;
  return first && first > start ? first : start;
}

/** Where the next slot to create starts, given the latest scheduled run (Airflow's next_dagrun_info). */
function nextStart(b: Boundaries, input: ScheduleInput, now: Date): Date | null {
  const startDate = toDate(input.start_date);
  const first = startDate ? b.atOrAfter(startDate) : null;
  const latest = input.latest_logical_date;
  // Without a start_date there is nothing to catch up from: behave as catchup=false.
  const catchup = input.catchup && first !== null;
  if (latest) {
    const after = b.next(latest);
    if (catchup || !after) return after;
    // The slot after the latest run has not ended: no complete slot lies past it to skip to (the common case,
    // answered from boundaries already asked: `now` is a new question every second, for every DAG).
    const afterEnd = b.next(after);
    if ((!afterEnd || afterEnd > now) && !(first && first > after)) return after;
    const skip = latestCompleteStart(b, now, first);
    return skip && skip > after ? skip : after;
  }
  return catchup ? first : latestCompleteStart(b, now, first);
}

/**
 * The slots to create now, oldest first: with catchup every complete slot since the latest scheduled run
 * (or since start_date), without catchup only the latest complete one (if newer than the latest run).
 * `@once`: one slot at start_date once it has passed (at `now`, to the second, when there is no
 * start_date: a deviation, Airflow never runs it). Slots starting after end_date are never returned.
 */
export function dueSlots(input: ScheduleInput, now: Date, limit = DEFAULT_SLOT_LIMIT): Slot[] {
  if (input.schedule === null || limit <= 0) return [];
  const endDate = toDate(input.end_date);
  if (input.schedule === "@once") {
    const once = onceSlot(input, now);
    return once && once.run_after <= now ? [once] : [];
  }
  const b = boundariesOf(cronExpression(input.schedule)!, input.timezone);
  const slots: Slot[] = [];
  let start = nextStart(b, input, now);
  while (start && slots.length < limit && !(endDate && start > endDate)) {
    const slot = interval(b, start);
    if (!slot || slot.run_after > now) break;
    slots.push(slot);
    start = slot.data_interval_end;
  }
  return slots;
}

/** `@once`'s one slot, at start_date (at `now`, to the second, without one); null once it has run or past end_date. */
function onceSlot(input: ScheduleInput, now: Date): Slot | null {
  if (input.latest_logical_date) return null;
  const at = toDate(input.start_date) ?? new Date(Math.floor(now.getTime() / 1000) * 1000);
  const endDate = toDate(input.end_date);
  if (endDate && at > endDate) return null;
  return { logical_date: at, data_interval_start: at, data_interval_end: at, run_after: at };
}

/**
 * The next slot the scheduler will create (Airflow's DagModel.next_dagrun*): dueSlots' first slot if one is
 * due at `now` (catchup's oldest missing one, or the latest complete one without catchup), else the slot that
 * becomes due next (its `run_after`). Null when none will be: no schedule, past end_date, `@once` already run.
 *
 * @example
 * nextSlot({ schedule: "@daily", timezone: "UTC", start_date: "2026-01-01T00:00:00Z", catchup: false,
 *            latest_logical_date: new Date("2026-01-02T00:00:00Z") }, new Date("2026-01-03T12:00:00Z"))
 * // → 2026-01-03..01-04, run_after 2026-01-04T00:00:00Z
 */
export function nextSlot(input: ScheduleInput, now: Date): Slot | null {
  if (input.schedule === null) return null;
  if (input.schedule === "@once") return onceSlot(input, now);
  const b = boundariesOf(cronExpression(input.schedule)!, input.timezone);
  const start = nextStart(b, input, now);
  const endDate = toDate(input.end_date);
  if (!start || (endDate && start > endDate)) return null;
  return interval(b, start);
}

/**
 * When the next slot after `now` becomes due (its data_interval_end), or null if none will (no schedule,
 * past end_date, @once already run). Slots due already are dueSlots' business, not this function's.
 */
export function nextDueAt(input: ScheduleInput, now: Date): Date | null {
  if (input.schedule === null) return null;
  const startDate = toDate(input.start_date);
  const endDate = toDate(input.end_date);
  if (input.schedule === "@once") {
    if (input.latest_logical_date || !startDate || startDate <= now) return null;
    return endDate && startDate > endDate ? null : startDate;
  }
  const b = boundariesOf(cronExpression(input.schedule)!, input.timezone);
  const first = startDate ? b.atOrAfter(startDate) : null;
  let end = b.next(now);
  let start = end ? b.before(end) : null;
  if (first && start && start < first) {
    // The first slot has not begun yet: it is due when it ends.
    start = first;
    end = b.next(first);
  }
  if (!start || !end || (endDate && start > endDate)) return null;
  return end;
}

/**
 * Every slot whose logical_date is within [from, to] and which has ended by `now`, oldest first (a
 * backfill's runs; Airflow's `iter_dagrun_infos_between`). Throws for schedules without intervals.
 */
export function slotsBetween(schedule: string | null, timezone: string, from: Date, to: Date, now: Date, limit: number): Slot[] {
  const expr = schedule === "@once" ? null : cronExpression(schedule);
  if (!expr) throw new Error(`schedule ${JSON.stringify(schedule)} has no periodic slots`);
  const b = boundariesOf(expr, timezone);
  const slots: Slot[] = [];
  let start = b.atOrAfter(from);
  while (start && start <= to && slots.length < limit) {
    const slot = interval(b, start);
    if (!slot || slot.data_interval_end > now) break;
    slots.push(slot);
    start = slot.data_interval_end;
  }
  return slots;
}
