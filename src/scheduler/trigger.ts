/**
 * Building a new DAG run (pure): run id, effective conf (params validated and defaulted) and one task
 * instance per task of the DAG's current version. Used by the API trigger endpoint and the cron scheduler.
 *
 * @example
 * const run = buildDagRun(dag, { run_type: "manual", logical_date: null, conf: { limit: 5 } }, now);
 * await store.createDagRun(run);
 */
import {
  paramHasDefault,
  paramIsRequired,
  paramValueProblem,
  ValidationError,
  type DagRecord,
  type NewDagRun,
  type RunType,
} from "../domain";
import type { DagSpec } from "../domain";
import { effectivePriorityWeights } from "./priority";

export interface BuildDagRunOptions {
  run_id?: string;
  run_type: RunType;
  logical_date: Date | null;
  data_interval_start?: Date | null;
  data_interval_end?: Date | null;
  conf?: Record<string, unknown>;
  note?: string | null;
}

/**
 * Returns the NewDagRun to insert, in the DAG's team. The stored `conf` is the conf as given; tasks see it
 * over the param defaults of the run's pinned DAG version.
 * Throws ValidationError (paths `conf.<key>`) when conf breaks a param's schema.
 */
export function buildDagRun(dag: DagRecord, opts: BuildDagRunOptions, now: Date): NewDagRun {
  const spec = dag.spec;
  // Validated against the params, stored as given: tasks see param defaults through effectiveParams, and
  // the API returns the conf the user sent (Airflow keeps dag_run.conf and params apart too).
  const conf = opts.conf ?? {};
  resolveConf(spec, conf);
  const weights = effectivePriorityWeights(spec);
  const run: NewDagRun = {
    team: dag.team,
    dag_id: dag.dag_id,
    run_id: opts.run_id ?? defaultRunId(opts.run_type, opts.logical_date ?? now),
    run_type: opts.run_type,
    logical_date: opts.logical_date,
    data_interval_start: opts.data_interval_start ?? null,
    data_interval_end: opts.data_interval_end ?? null,
    conf,
    version_id: dag.version_id,
    queued_at: now,
    tasks: spec.tasks.map((t) => ({
      task_id: t.task_id,
      operator: t.operator,
      max_tries: t.retries,
      pool: t.pool,
      pool_slots: t.pool_slots,
      priority_weight: weights.get(t.task_id) ?? t.priority_weight,
    })),
  };
  if (opts.note != null) run.note = opts.note;
  return run;
}

/**
 * Airflow's run id: `<run_type>__<isoformat>`, e.g. `manual__2026-01-01T00:00:00+00:00`. With a `suffix`
 * it is Airflow 3's id for a run without a logical date, `manual__<isoformat>_<suffix>`: two triggers in
 * the same millisecond then get two runs instead of a 409 (the caller draws the suffix at random).
 */
export function defaultRunId(runType: RunType, at: Date, suffix?: string): string {
  return `${runType}__${pythonIsoFormat(at)}${suffix ? `_${suffix}` : ""}`;
}

const SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Airflow's `get_random_string()`: 8 letters or digits (62^8 ≈ 2·10^14 values) from the given random bytes.
 *
 * @example
 * runIdSuffix(crypto.getRandomValues(new Uint8Array(8))); // "aZ3kQ0pX"
 */
export function runIdSuffix(bytes: Uint8Array): string {
  // 62 does not divide 256; the 4/256 bias toward the first letters costs nothing for uniqueness.
  return Array.from(bytes.subarray(0, 8), (b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join("");
}

/** Python's `datetime.isoformat()` for a UTC datetime: microseconds only when non-zero, `+00:00` offset. */
function pythonIsoFormat(d: Date): string {
  const iso = d.toISOString(); // 2026-01-01T00:00:00.123Z
  const base = iso.slice(0, 19);
  const ms = d.getUTCMilliseconds();
  return ms ? `${base}.${String(ms).padStart(3, "0")}000+00:00` : `${base}+00:00`;
}

/**
 * Validates `conf` against `spec.params` (each param's full JSON Schema, as Airflow does) and returns the
 * effective params: every declared param (conf value, else its default) plus any undeclared conf keys, which
 * Airflow also lets through. Throws one ValidationError listing every problem with its path `conf.<key>`.
 */
export function resolveConf(spec: Pick<DagSpec, "params">, conf: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...conf };
  const issues: { path: string; message: string }[] = [];
  for (const [key, param] of Object.entries(spec.params ?? {})) {
    const given = Object.hasOwn(conf, key);
    if (!given && !paramHasDefault(param)) {
      if (!paramIsRequired(param)) {
        out[key] = null;
        continue;
      }
      issues.push({ path: `conf.${key}`, message: `param "${key}" is required: it has no default, so pass it in conf` });
      continue;
    }
    const value = given ? conf[key] : param.default;
    out[key] = value;
    const problem = paramValueProblem(key, param, value);
    if (problem) issues.push({ path: `conf.${key}`, message: given ? problem : `${problem} (the param's default)` });
  }
  if (issues.length) throw new ValidationError(`invalid conf: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
  return out;
}
