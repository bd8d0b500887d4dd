/**
 * Schedules: Airflow's presets and 5-field cron strings, validated with croner. Pure: `now` is always an
 * argument. Slot arithmetic (catchup, data intervals) builds on `nextSlotAfter`.
 */
import { Cron } from "croner";
import { errorMessage } from "./errors";

export const SCHEDULE_PRESETS: Record<string, string | null> = {
  "@once": null,
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@quarterly": "0 0 1 */3 *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};

/** The cron expression a schedule stands for; null for manual-only and @once. */
export function cronExpression(schedule: string | null): string | null {
  if (schedule === null) return null;
  if (schedule in SCHEDULE_PRESETS) return SCHEDULE_PRESETS[schedule]!;
  return schedule;
}

/** Returns a problem with its field path, or null when the schedule and timezone are usable. */
export function validateSchedule(schedule: string | null, timezone: string): { path: string; message: string } | null {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    return { path: "timezone", message: `unknown timezone "${timezone}"; use an IANA name such as "Europe/Paris" or "UTC"` };
  }
  if (schedule === null || schedule === "@once") return null;
  if (schedule.startsWith("@") && !(schedule in SCHEDULE_PRESETS))
    return {
      path: "schedule",
      message: `unknown preset "${schedule}"; use one of ${Object.keys(SCHEDULE_PRESETS).join(", ")} or a cron string`,
    };
  const expr = cronExpression(schedule)!;
  const fields = expr.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6)
    return { path: "schedule", message: `cron "${schedule}" must have 5 fields (minute hour day month weekday)` };
  try {
    new Cron(expr, { timezone, paused: true });
  } catch (e) {
    return { path: "schedule", message: `invalid cron "${schedule}": ${errorMessage(e)}` };
  }
  return null;
}

/** The first slot strictly after `after` (in the DAG's timezone), or null if the schedule has none. */
export function nextSlotAfter(schedule: string | null, timezone: string, after: Date): Date | null {
  const expr = cronExpression(schedule);
  if (!expr) return null;
  return new Cron(expr, { timezone, paused: true }).nextRun(after) ?? null;
}
