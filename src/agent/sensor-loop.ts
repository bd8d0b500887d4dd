/**
 * A bash sensor in mode poke, as the agent runs it: one try, one bash process that runs the user's check
 * every poke_interval (exponential_backoff, max_wait) until it exits 0 (done), until the timeout (exit 98:
 * failed without retry, as Airflow's AirflowSensorTimeout; with soft_fail exit 99, which the agent reports as skipped) or until it exits with anything but 75, "not yet"
 * (failed, skipped with soft_fail). The user's command reaches the loop as an argument, never spliced into
 * its source. Waits are whole seconds (fractions rounded up); the elapsed time is measured in microseconds
 * (bash ≥ 5's EPOCHREALTIME), because $SECONDS ticks on wall-clock second boundaries and would let a 1 s
 * timeout fire after a few milliseconds. An older bash falls back to $SECONDS. Pure: argv out.
 */
import type { SensorTaskFields } from "../domain";

/** Mirrors sensor-timing.ts (the control plane's rules) in bash: $1 check, $2 poke, $3 timeout, $4 backoff, $5 max_wait, $6 soft_fail. */
export const SENSOR_LOOP = `cmd=$1 poke=$2 timeout=$3 backoff=$4 max_wait=$5 soft=$6
give_up() { echo "$1" >&2; if [ "$soft" = 1 ]; then exit 99; fi; exit "$2"; }
now_us() { local t=\${EPOCHREALTIME//[!0-9]/}; if [ -n "$t" ]; then echo "$t"; else echo $((SECONDS * 1000000)); fi; }
start=$(now_us) n=0 timeout_us=$((timeout * 1000000))
while :; do
  n=$((n + 1))
  bash -c "$cmd"
  code=$?
  if [ "$code" -eq 0 ]; then echo "sensor done after $n checks"; exit 0; fi
  if [ "$code" -ne 75 ]; then give_up "sensor check exited $code (0 is done, 75 is not yet)" 1; fi
  elapsed=$(($(now_us) - start))
  if [ "$elapsed" -ge "$timeout_us" ]; then give_up "sensor timed out after $timeout s ($n checks)" 98; fi
  wait=$poke i=1
  if [ "$backoff" = 1 ]; then while [ "$i" -lt "$n" ] && [ "$wait" -lt "$timeout" ]; do wait=$((wait * 2)) i=$((i + 1)); done; fi
  if [ "$max_wait" -gt 0 ] && [ "$wait" -gt "$max_wait" ]; then wait=$max_wait; fi
  left=$(((timeout_us - elapsed + 999999) / 1000000))
  if [ "$wait" -gt "$left" ]; then wait=$left; fi
  echo "sensor not yet (check $n); next check in $wait s"
  sleep "$wait"
done`;

/** A sensor's process exits with this when it timed out: the try fails without retry (Airflow's AirflowSensorTimeout). */
export const SENSOR_TIMEOUT_EXIT_CODE = 98;
/** A user check's "not yet" (EX_TEMPFAIL). */
export const SENSOR_NOT_YET_EXIT_CODE = 75;

const DEFAULT_POKE = 60;
const DEFAULT_TIMEOUT = 7 * 24 * 3600;

export function bashSensorArgv(bashCommand: string, t: SensorTaskFields): string[] {
  const whole = (n: number) => String(Math.ceil(n));
  return [
    "bash",
    "-c",
    SENSOR_LOOP,
    "leoflow-sensor",
    bashCommand,
    whole(t.poke_interval ?? DEFAULT_POKE),
    whole(t.timeout ?? DEFAULT_TIMEOUT),
    t.exponential_backoff ? "1" : "0",
    whole(t.max_wait ?? 0),
    t.soft_fail ? "1" : "0",
  ];
}
