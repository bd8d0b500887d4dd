/**
 * A `ts` sensor's check, run by `leoflow run-ts` in the task's agent: the user's function answers truthy
 * (done) or falsy (not yet). Mode poke loops in this process every poke_interval (exponential_backoff,
 * max_wait, never past the timeout counted from the first check), as the bash kind's loop does; mode
 * reschedule checks once and exits 75, which ends the try `up_for_reschedule` (the control plane plans the
 * next check). The exit code is the agent's contract: 0 done, 75 not yet, 98 timed out (failed, never
 * retried), 99 skipped (soft_fail), 1 the check threw.
 */
import { SENSOR_NOT_YET_EXIT_CODE, SENSOR_TIMEOUT_EXIT_CODE, SKIP_EXIT_CODE } from "../agent";
import { pokeDelaySeconds, sensorTiming, type SensorTaskFields } from "../domain";

/**
 * What a check's return value means, after Airflow's PokeReturnValue: `{ is_done, xcom_value }` says both;
 * otherwise truthy is done, and a done value other than `true` becomes the return_value XCom.
 */
export function pokeAnswer(result: unknown): { done: boolean; value?: unknown } {
  if (result && typeof result === "object" && "is_done" in result) {
    const r = result as { is_done: unknown; xcom_value?: unknown };
    return r.is_done ? { done: true, ...(r.xcom_value === undefined ? {} : { value: r.xcom_value }) } : { done: false };
  }
  if (!result) return { done: false };
  return result === true ? { done: true } : { done: true, value: result };
}

export interface TsSensorIo {
  /** Runs the user's check once. */
  check(): Promise<unknown>;
  /** Hands a done check's value to the agent (the return_value XCom). */
  keep(value: unknown): Promise<void>;
  now(): number;
  sleep(ms: number): Promise<void>;
  log(line: string): void;
}

/** Runs the check (once in mode reschedule, until done or the timeout in mode poke) and returns the exit code. */
export async function runTsSensor(task: Omit<SensorTaskFields, "sensor">, io: TsSensorIo): Promise<number> {
  const t = sensorTiming(task);
  const giveUp = (line: string, code: number) => {
    console.error(line);
    return t.softFail ? SKIP_EXIT_CODE : code;
  };
  const start = io.now();
  for (let n = 1; ; n++) {
    let answer: ReturnType<typeof pokeAnswer>;
    try {
      answer = pokeAnswer(await io.check());
    } catch (e) {
      return giveUp(`sensor check threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, 1);
    }
    if (answer.done) {
      if (answer.value !== undefined) await io.keep(answer.value);
      io.log(`sensor done after ${n} checks`);
      return 0;
    }
    if (t.mode === "reschedule") {
      io.log("sensor not yet; the try ends up_for_reschedule");
      return SENSOR_NOT_YET_EXIT_CODE;
    }
    const left = start + t.timeout * 1000 - io.now();
    if (left <= 0) return giveUp(`sensor timed out after ${t.timeout} s (${n} checks)`, SENSOR_TIMEOUT_EXIT_CODE);
    const wait = Math.min(pokeDelaySeconds(t, n) * 1000, left);
    io.log(`sensor not yet (check ${n}); next check in ${Math.ceil(wait / 1000)} s`);
    await io.sleep(wait);
  }
}
