/**
 * Sensors: a task that waits for something (a time, a file, an HTTP answer, a SQL row, another DAG's task)
 * with Airflow's sensor fields. The control plane checks the kinds it can check itself while the task is
 * `deferred` (no process, no slot); docs/sensors.md describes each kind and field.
 */
import { z } from "zod";
// A cycle with dag-spec.ts, harmless: each side reads the other only inside lazySchema builders.
import { HttpRequestSchema } from "./dag-spec";
import { built, lazySchema } from "./lazy-schema";
import { MIN_POKE_INTERVAL_SECONDS, SENSOR_KINDS } from "./sensor-kinds";

const seconds = lazySchema(() => z.number().finite().nonnegative());
const isDate = (v: string) => !Number.isNaN(new Date(v).getTime());
/** A date, or a template rendered at each check (its syntax is checked with the task's other templates). */
const TARGET_TIME = lazySchema(() =>
  z.string().refine((v) => v.includes("{{") || isDate(v), {
    message: 'not a valid ISO 8601 date (or a {{ … }} template rendering to one, e.g. "{{ ds }}T06:00:00Z")',
  }),
);

/** What an HTTP sensor accepts as "done": the status (default 2xx), then optionally a JSON path or a body text. */
const HttpCheckSchema = lazySchema(() =>
  z
    .object({
      status: z.array(z.number().int().min(100).max(599)).optional(),
      /** A dotted path into the JSON body (`data.items[0].ready`); done when the value there is truthy or equals `equals`. */
      json_path: z.string().min(1).optional(),
      equals: z.unknown().optional(),
      /** Done when the body contains this text. */
      body_contains: z.string().min(1).optional(),
    })
    .strict(),
);

/** The kinds whose check is the user's code, run by the task's agent (not by the control plane). */
export type AgentSensor = Extract<SensorSpec, { kind: "bash" | "ts" }>;
/** The kinds the control plane checks itself while the task is deferred. */
export type ControlPlaneSensor = Exclude<SensorSpec, { kind: "bash" | "ts" }>;

export const SensorSchema = lazySchema(() =>
  z.discriminatedUnion(
    "kind",
    [
      /** Done once the run's logical date (its queued time when it has none) plus `delta` seconds has passed. */
      z.object({ kind: z.literal("time_delta"), delta: built(seconds) }).strict(),
      /** Done at `target_time`: an ISO 8601 instant, or a template rendering to one (Airflow's DateTimeSensor templates it). */
      z.object({ kind: z.literal("date_time"), target_time: built(TARGET_TIME) }).strict(),
      z.object({ kind: z.literal("http"), http: built(HttpRequestSchema), check: built(HttpCheckSchema).optional() }).strict(),
      /** Done when the glob (an absolute path, e.g. a folder mounted into the server) matches a file. */
      z.object({ kind: z.literal("file"), path: z.string().startsWith("/", "a file sensor's path is an absolute path or glob") }).strict(),
      /** Done when the query's first cell of its first row is truthy (not null, 0, false or ''). */
      z.object({ kind: z.literal("sql"), connection_id: z.string().min(1), sql: z.string().min(1) }).strict(),
      z
        .object({
          kind: z.literal("external_task"),
          external_dag_id: z.string().min(1),
          /** Absent: the state of the other DAG's run itself. */
          external_task_id: z.string().min(1).optional(),
          allowed_states: z.array(z.string()).min(1).default(["success"]),
          failed_states: z.array(z.string()).default(["failed", "upstream_failed"]),
          /**
           * Look at the run whose logical date is this many seconds before this run's (Airflow's timedelta,
           * subtracted from the logical date): negative looks at a later run.
           */
          execution_delta: z.number().finite().optional(),
        })
        .strict(),
      /** A user-defined check an agent runs every poke_interval within one try (mode poke): exit 0 done, 75 not yet. */
      z.object({ kind: z.literal("bash"), bash_command: z.string().min(1) }).strict(),
      /** A user-defined check: the `ts` function the SDK's sensor({ sensor: { kind: "ts", check } }) declares; truthy is done. */
      z.object({ kind: z.literal("ts") }).strict(),
    ],
    { error: (i) => `unknown sensor kind ${JSON.stringify((i.input as { kind?: unknown })?.kind)}; use one of ${SENSOR_KINDS.join(", ")}` },
  ),
);
export type SensorSpec = z.infer<typeof SensorSchema>;

/** The task fields a sensor adds (Airflow's names). All optional; sensorTiming() applies the defaults. */
export const sensorTaskFields = lazySchema(
  () =>
    ({
      sensor: built(SensorSchema),
      poke_interval: z
        .number()
        .finite()
        .min(
          MIN_POKE_INTERVAL_SECONDS,
          `poke_interval must be at least ${MIN_POKE_INTERVAL_SECONDS} s (checks faster than that are refused)`,
        ),
      timeout: built(seconds).positive(),
      mode: z.enum(["poke", "reschedule"]),
      soft_fail: z.boolean(),
      exponential_backoff: z.boolean(),
      max_wait: built(seconds).positive(),
    }) as const,
);
