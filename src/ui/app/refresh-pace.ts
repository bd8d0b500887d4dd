/**
 * How soon the DAG page reads a run's task instances again after an event about it (dag-data.ts). The event
 * already shows the new state; the read brings the rest (times, tries, mapped counts). A full read costs the server
 * ~20–40 µs a task instance (a 10,000-task run: 200–400 ms over HTTP on SQLite, every page, count and row), so one
 * open page re-reading a running 10,000-task fan-out every 700 ms took ~22% of its tasks/s (7,027–7,675 against
 * 5,432–6,031 alone and watched, measured). Waiting a millisecond per task instance keeps one viewer's reads to a few
 * percent of the server's time whatever the run's size; small runs keep the 700 ms.
 */

/** The least wait, for runs of up to this many task instances (ms). */
export const RUN_REFRESH_MIN_MS = 700;
/** The longest wait: a run of 30,000 task instances or more (ms); its states stay live through the events. */
export const RUN_REFRESH_MAX_MS = 30_000;

/** The wait before re-reading a run that had `taskInstances` at its last read (ms). */
export function runRefreshDelayMs(taskInstances: number): number {
  return Math.min(RUN_REFRESH_MAX_MS, Math.max(RUN_REFRESH_MIN_MS, Math.round(taskInstances)));
}
