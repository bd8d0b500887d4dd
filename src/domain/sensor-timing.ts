/**
 * When a sensor is checked next and when it gives up, after Airflow's BaseSensorOperator: a check every
 * poke_interval, or with exponential_backoff poke_interval·2^(checks−1) capped by max_wait; never past the
 * timeout, counted from the first check of the try; at the timeout the task fails, or is skipped with
 * soft_fail. Pure: `now` is an argument.
 */
import { DEFAULT_POKE_INTERVAL_SECONDS, DEFAULT_SENSOR_TIMEOUT_SECONDS } from "./sensor-kinds";
import type { SensorSpec } from "./sensor-spec";

export interface SensorTiming {
  pokeInterval: number;
  timeout: number;
  /** The DAG set no timeout: Airflow's 7 days apply, and the task's note says so. */
  timeoutDefaulted: boolean;
  mode: "poke" | "reschedule";
  softFail: boolean;
  exponentialBackoff: boolean;
  maxWait: number | null;
}

/** The sensor fields of a task as parsed (all optional). */
export interface SensorTaskFields {
  sensor?: SensorSpec;
  poke_interval?: number;
  timeout?: number;
  mode?: "poke" | "reschedule";
  soft_fail?: boolean;
  exponential_backoff?: boolean;
  max_wait?: number;
}

/** A task's sensor fields with Airflow's defaults applied. */
export function sensorTiming(task: SensorTaskFields): SensorTiming {
  return {
    pokeInterval: task.poke_interval ?? DEFAULT_POKE_INTERVAL_SECONDS,
    timeout: task.timeout ?? DEFAULT_SENSOR_TIMEOUT_SECONDS,
    timeoutDefaulted: task.timeout === undefined,
    mode: task.mode ?? "poke",
    softFail: task.soft_fail ?? false,
    exponentialBackoff: task.exponential_backoff ?? false,
    maxWait: task.max_wait ?? null,
  };
}

/** Seconds to wait after check number `checks` (1 = the first) said "not yet", before the timeout is applied. */
export function pokeDelaySeconds(t: SensorTiming, checks: number): number {
  const delay = t.exponentialBackoff ? t.pokeInterval * 2 ** Math.max(0, checks - 1) : t.pokeInterval;
  return t.maxWait === null ? delay : Math.min(delay, t.maxWait);
}

export type SensorOutcome =
  | { outcome: "success" }
  | { outcome: "wait"; nextCheckAt: Date }
  /** `final`: a timeout, which Airflow never retries (AirflowSensorTimeout); a check that could not run is retried. */
  | { outcome: "failed" | "skipped"; note: string; final?: true };

export interface SensorCheckResult {
  /** When the try's first check ran (the timeout counts from here). */
  startedAt: Date;
  /** Checks made so far, this one included. */
  checks: number;
  /**
   * The check's answer (with, for time sensors, when it will be done: checked then instead of every
   * poke_interval), or the error that kept it from answering.
   */
  result: { done: boolean; doneAt?: Date } | { error: string };
}

/**
 * What follows a check: success when it passed; an error fails the try (its retries apply) or skips it with
 * soft_fail; past the timeout it fails for good (no retry, as Airflow's AirflowSensorTimeout) or is skipped;
 * otherwise the next check, never later than the timeout (so a timeout is noticed on time, not a backoff later).
 */
export function afterCheck(t: SensorTiming, check: SensorCheckResult, now: Date): SensorOutcome {
  const giveUp = t.softFail ? "skipped" : "failed";
  if ("error" in check.result) return { outcome: giveUp, note: `sensor check failed: ${check.result.error}` };
  if (check.result.done) return { outcome: "success" };
  const deadline = check.startedAt.getTime() + t.timeout * 1000;
  if (now.getTime() >= deadline)
    return {
      outcome: giveUp,
      note: `sensor timed out after ${t.timeout} s (${check.checks} checks)${t.timeoutDefaulted ? "; no timeout was set, Airflow's default of 7 days applied" : ""}`,
      final: true,
    };
  const poke = check.result.doneAt ? check.result.doneAt.getTime() : now.getTime() + pokeDelaySeconds(t, check.checks) * 1000;
  const next = Math.min(poke, deadline);
  return { outcome: "wait", nextCheckAt: new Date(next) };
}

/** The note a waiting sensor shows (the task instance's note): what it waits for and until when. */
export function waitingNote(t: SensorTiming, sensor: SensorSpec, nextCheckAt: Date, startedAt: Date): string {
  const until = new Date(startedAt.getTime() + t.timeout * 1000).toISOString();
  const timeout = t.timeoutDefaulted ? `timeout ${until} (no timeout set: Airflow's default of 7 days)` : `timeout ${until}`;
  return `sensor ${sensor.kind} waiting; next check ${nextCheckAt.toISOString()}; ${timeout}`;
}

/**
 * A user check in mode reschedule after one more "not yet": its timeout counts from the first try's start
 * (the task instance keeps its start_date across reschedules, as Airflow does), and its check count goes on
 * while the recorded progress belongs to that start; a new start (a retry, a clear) counts from 1 again.
 */
export function rescheduleProgress(
  recorded: { started_at: Date | null; checks: number },
  tryStartedAt: Date,
): { startedAt: Date; checks: number } {
  const same = recorded.started_at !== null && recorded.started_at.getTime() === tryStartedAt.getTime();
  return { startedAt: tryStartedAt, checks: same ? recorded.checks + 1 : 1 };
}
