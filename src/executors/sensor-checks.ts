/**
 * The checks behind control-plane sensors (docs/sensors.md), one per kind: time, file, external task here;
 * http and sql in their own files. Each answers done / not yet, or throws when it cannot answer (the sensor
 * then fails, or is skipped with soft_fail). The scheduler's SensorPoller calls them, bounded in number.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  normalizeSensorPath,
  renderString,
  sensorFileRootProblem,
  type ConnectionRecord,
  type ControlPlaneSensor,
  type DagRunState,
  type SensorCheckContext,
  type SensorSpec,
  type TaskState,
} from "../domain";
import { checkHttpSensor } from "./sensor-http";
import { checkSqlSensor } from "./sensor-sql";

export type SensorAnswer = { done: boolean; doneAt?: Date };

/** The kinds the control plane checks; a bash or ts check runs in an agent (agent/command.ts). */
export type { ControlPlaneSensor };

/** The store reads the checks need: another DAG's states (external task) and the team's connections. */
export interface SensorCheckPort {
  externalStates(team: string, dagId: string, logicalDate: Date, taskId: string | null): Promise<(TaskState | DagRunState)[]>;
  getConnection(team: string, connectionId: string): Promise<ConnectionRecord | null>;
}

export class SensorChecks {
  /** `fileRoots`: the folders file sensors may read (--sensor-file-roots); absent, any (tests of other kinds). */
  constructor(
    private readonly port: SensorCheckPort,
    private readonly opts: { fileRoots?: readonly string[] } = {},
  ) {}

  check(sensor: ControlPlaneSensor, ctx: SensorCheckContext): Promise<SensorAnswer> {
    switch (sensor.kind) {
      case "time_delta": {
        const from = ctx.logical_date ?? ctx.run_queued_at;
        return Promise.resolve(timeReached(new Date(from.getTime() + sensor.delta * 1000), ctx.now));
      }
      case "date_time":
        // Templated as Airflow's DateTimeSensor (`{{ ds }}T06:00:00Z`): the run's names and dates, as a file path's.
        try {
          return Promise.resolve(timeReached(targetTime(sensor.target_time, ctx), ctx.now));
        } catch (e) {
          return Promise.reject(e);
        }
      case "file": {
        // A template in the path ({{ ds }}, Airflow's FileSensor example) is rendered first: the literal text was
        // looked for. A template error is the check's failure, saying which.
        let path: string;
        try {
          path = renderString(sensor.path, sensorTemplates(ctx), "sensor.path");
        } catch (e) {
          return Promise.reject(e);
        }
        // Checked at load too; again here, as the roots may have changed since the DAG was loaded.
        const outside = this.opts.fileRoots && sensorFileRootProblem(path, this.opts.fileRoots);
        if (outside) return Promise.reject(new Error(outside));
        return fileExists(normalizeSensorPath(path)).then((done) => ({ done }));
      }
      case "external_task":
        return this.externalTask(sensor, ctx);
      case "http":
        return checkHttpSensor(sensor, ctx, this.port);
      case "sql":
        return checkSqlSensor(sensor, ctx, this.port);
    }
  }

  private async externalTask(sensor: Extract<SensorSpec, { kind: "external_task" }>, ctx: SensorCheckContext): Promise<SensorAnswer> {
    if (!ctx.logical_date)
      throw new Error(
        `external_task sensor: run "${ctx.run_id}" has no logical date to match runs of "${sensor.external_dag_id}" by; trigger it with a logical_date`,
      );
    const date = new Date(ctx.logical_date.getTime() - (sensor.execution_delta ?? 0) * 1000);
    const target = sensor.external_task_id
      ? `task "${sensor.external_task_id}" of DAG "${sensor.external_dag_id}"`
      : `DAG "${sensor.external_dag_id}"`;
    const states = await this.port.externalStates(ctx.team, sensor.external_dag_id, date, sensor.external_task_id ?? null);
    const failed = states.find((s) => sensor.failed_states.includes(s));
    if (failed)
      throw new Error(`${target} for logical date ${date.toISOString()} is ${failed} (failed_states: ${sensor.failed_states.join(", ")})`);
    return { done: states.length > 0 && states.every((s) => sensor.allowed_states.includes(s)) };
  }
}

/** What a control-plane sensor's templates see: the run's names and dates (no params, conf, XComs or variables). */
export const sensorTemplates = (ctx: SensorCheckContext) => ({ ...ctx, try_number: 1, params: {}, conf: {}, xcom: {}, var: {} });

/** A date_time sensor's target, rendered; a template that renders no date is the check's failure, saying what it gave. */
function targetTime(template: string, ctx: SensorCheckContext): Date {
  const text = renderString(template, sensorTemplates(ctx), "sensor.target_time");
  const at = new Date(text);
  if (Number.isNaN(at.getTime()))
    throw new Error(
      `sensor.target_time ${JSON.stringify(template)} rendered ${JSON.stringify(text)}, which is not an ISO 8601 date; make it render one, e.g. "{{ ds }}T06:00:00Z"`,
    );
  return at;
}

const timeReached = (target: Date, now: Date): SensorAnswer =>
  now.getTime() >= target.getTime() ? { done: true } : { done: false, doneAt: target };

const GLOB_CHARS = /[*?[{]/;

/**
 * Whether an absolute path names an existing file or folder, or a glob over one matches a file. A glob is
 * scanned from its longest directory prefix without glob characters, and stops at the first match.
 */
export async function fileExists(path: string): Promise<boolean> {
  if (!GLOB_CHARS.test(path))
    return stat(path).then(
      (s) => s.isFile() || s.isDirectory(),
      () => false,
    );
  const parts = path.split("/");
  const first = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = join("/", ...parts.slice(0, first));
  const pattern = parts.slice(first).join("/");
  try {
    for await (const _ of new Bun.Glob(pattern).scan({ cwd: base, onlyFiles: true })) return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
  return false;
}
