/**
 * DagSpec: a DAG as data (dag.json). The zod schemas here are the single definition of every field; the
 * loader, the SDK and the API all validate through `parseDagSpec`, which also applies `default_args` and
 * checks the graph (duplicate ids, unknown upstreams, cycles) and the schedule.
 */
import { z } from "zod";
import { TRIGGER_RULES } from "./trigger-rule-names";
import { validateSchedule } from "./schedule";
import { ValidationError } from "./errors";
import { findJsonProblem, MAX_JSON_DEPTH } from "./json-safety";
import { envFromProblems } from "./env-from";
import { taskTemplateProblems } from "./task-templates";
import { built, lazySchema } from "./lazy-schema";
import { mappingUpstreams } from "./mapping";
import { ExpandKwargsSchema, ExpandSchema } from "./mapping-schema";
import { sensorTaskFields } from "./sensor-spec";
import { callbackDagFields, callbackTaskFields } from "./callback-spec";
import { TASK_DEFAULTS } from "./task-defaults";
import {
  normalizeParam,
  PARAM_TYPES,
  paramIsRequired,
  paramSchemaProblem,
  paramValueProblem,
  paramHasDefault,
  type ParamInput,
  type ParamSpec,
} from "./param-schema";

const ID = /^[A-Za-z0-9_.-]{1,250}$/;
const idString = (what: string) => z.string().regex(ID, `${what} must be 1-250 characters of letters, digits, '_', '-' or '.'`);

/** Seconds; must be finite and non-negative. */
const seconds = lazySchema(() => z.number().finite().nonnegative());

const dateLike = lazySchema(() =>
  z.union([z.string(), z.date()]).transform((v, ctx) => {
    const d = v instanceof Date ? v : new Date(v);
    if (Number.isNaN(d.getTime())) {
      ctx.addIssue({ code: "custom", message: `not a valid ISO 8601 date: ${String(v)}` });
      return z.NEVER;
    }
    return d.toISOString();
  }),
);

export const ResourcesSchema = lazySchema(() =>
  z
    .object({
      cpu: z.union([z.string(), z.number()]).optional(),
      memory: z.string().optional(),
      requests: z
        .object({ cpu: z.union([z.string(), z.number()]).optional(), memory: z.string().optional() })
        .strict()
        .optional(),
      limits: z
        .object({ cpu: z.union([z.string(), z.number()]).optional(), memory: z.string().optional() })
        .strict()
        .optional(),
    })
    .strict(),
);
export type Resources = z.infer<typeof ResourcesSchema>;

export const HttpRequestSchema = lazySchema(() =>
  z
    .object({
      method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]).default("GET"),
      url: z.string().min(1),
      headers: z.record(z.string(), z.string()).optional(),
      query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      json: z.unknown().optional(),
      body: z.string().optional(),
      expected_status: z.array(z.number().int().min(100).max(599)).optional(),
      timeout: seconds.optional(),
      retries: z.number().int().min(0).max(20).optional(),
      connection_id: z.string().optional(),
    })
    .strict(),
);
export type HttpRequestSpec = z.infer<typeof HttpRequestSchema>;

export const OPERATORS = ["bash", "python", "ts", "http", "container", "sensor", "empty"] as const;
export type Operator = (typeof OPERATORS)[number];

export const WEIGHT_RULES = ["downstream", "upstream", "absolute"] as const;

/** Every field a task may set; `default_args` may set any of them except identity and graph fields. */
const taskFields = lazySchema(
  () =>
    ({
      operator: z.enum(OPERATORS, {
        error: (i) => `unknown operator ${JSON.stringify(i.input)}; use one of ${OPERATORS.join(", ")}`,
      }),
      trigger_rule: z.enum(TRIGGER_RULES, {
        error: (i) => `unknown trigger_rule ${JSON.stringify(i.input)}; use one of ${TRIGGER_RULES.join(", ")}`,
      }),
      retries: z.number().int().min(0).max(1000),
      retry_delay: built(seconds),
      retry_exponential_backoff: z.boolean(),
      max_retry_delay: built(seconds),
      execution_timeout: seconds.positive(),
      pool: z.string().min(1),
      pool_slots: z.number().int().min(1),
      priority_weight: z.number().int(),
      weight_rule: z.enum(WEIGHT_RULES),
      depends_on_past: z.boolean(),
      executor: z.enum(["subprocess", "docker", "kubernetes", "inline"]),
      image: z.string().min(1),
      image_pull_policy: z.enum(["always", "if_not_present", "never"]),
      env: z.record(z.string(), z.string()),
      /** Env vars filled from the team's variables and connections when a try starts (env-from.ts has the forms). */
      env_from: z.record(z.string(), z.string()),
      resources: built(ResourcesSchema),
      inputs: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "input names are env-var names"), z.string().min(1)),
      bash_command: z.string().min(1),
      python_code: z.string().min(1),
      python_callable: z.string().regex(/^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/, 'python_callable is "module:function"'),
      http: built(HttpRequestSchema),
      execution_mode: z.enum(["inline", "agent"]),
      command: z.array(z.string()).min(1),
      args: z.array(z.string()),
      doc_md: z.string(),
      /** Airflow's task owner (usually set once in default_args); shown as the DAG's owners. */
      owner: z.string().min(1),
      /** At most this many instances of the task run at once across all runs of the DAG (Airflow's max_active_tis_per_dag). */
      max_active_tis_per_dag: z.number().int().min(1),
      /** sensor, poke_interval, timeout, mode, soft_fail, exponential_backoff, max_wait (sensor-spec.ts). */
      ...sensorTaskFields,
      /** on_success/failure/retry/execute_callback (callback-spec.ts). */
      ...callbackTaskFields,
    }) as const,
);

const optionalTaskFields = lazySchema(
  () =>
    Object.fromEntries(Object.entries(taskFields).map(([k, v]) => [k, v.optional()])) as {
      [K in keyof typeof taskFields]: z.ZodOptional<(typeof taskFields)[K]>;
    },
);

export const DefaultArgsSchema = lazySchema(() => z.object(built(optionalTaskFields)).strict());

/** A task as written in a DAG file, before default_args are applied. */
export const RawTaskSchema = lazySchema(() =>
  z
    .object({
      task_id: idString("task_id"),
      upstream: z.array(z.string()).default([]),
      /** Dynamic task mapping (mapping.ts): one instance per value; the task's other fields are Airflow's `partial`. */
      expand: ExpandSchema.optional(),
      expand_kwargs: ExpandKwargsSchema.optional(),
      ...optionalTaskFields,
    })
    .strict(),
);

/** A task after default_args and defaults: what the scheduler and executors see. */
export type TaskSpec = z.infer<typeof RawTaskSchema> & {
  operator: Operator;
  upstream: string[];
  trigger_rule: (typeof TRIGGER_RULES)[number];
  retries: number;
  retry_delay: number;
  retry_exponential_backoff: boolean;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  weight_rule: (typeof WEIGHT_RULES)[number];
  depends_on_past: boolean;
};

/**
 * A DAG param (Airflow's Param): a JSON Schema with a default and a description, or a bare value, which is the
 * param with that default. Here only the shape; the schema itself, and the default against it, are checked by
 * paramProblems (param-schema.ts: the full JSON Schema, as Airflow's jsonschema).
 */
export const ParamSchema = lazySchema(() =>
  z.preprocess(
    (raw: ParamInput) => normalizeParam(raw),
    z
      .object({
        type: z
          .union([z.enum(PARAM_TYPES), z.array(z.enum(PARAM_TYPES)).min(1)], {
            error: (i) =>
              `unknown type ${JSON.stringify(i.input)}; use one of ${PARAM_TYPES.join(", ")}, or a list of them such as ["null", "string"]`,
          })
          .optional(),
        default: z.unknown().optional(),
        description: z.string().optional(),
      })
      .catchall(z.unknown()),
  ),
);

export const RawDagSchema = lazySchema(() =>
  z
    .object({
      dag_id: idString("dag_id"),
      description: z.string().optional(),
      schedule: z.string().nullable().default(null),
      timezone: z.string().default("UTC"),
      start_date: dateLike.optional(),
      end_date: dateLike.optional(),
      catchup: z.boolean().default(false),
      max_active_runs: z.number().int().min(1).default(16),
      max_active_tasks: z.number().int().min(1).default(16),
      dagrun_timeout: seconds.positive().optional(),
      is_paused_upon_creation: z.boolean().optional(),
      default_args: DefaultArgsSchema.default({}),
      params: z.record(z.string(), built(ParamSchema)).default({}),
      tags: z.array(z.string()).default([]),
      doc_md: z.string().optional(),
      staging: z.object({ enabled: z.boolean(), size: z.string().optional() }).strict().optional(),
      /** pip requirement lines for the DAG's python tasks: a virtual environment per list (agent/python-venv.ts). */
      requirements: z
        .array(
          z
            .string()
            .regex(
              /^[^\s-][^\r\n]*$/,
              'a requirement is one pip requirement line such as "requests==2.32.3" (no pip options: the index and wheel folder are the server\'s --pip-index-url and --pip-find-links)',
            ),
        )
        .optional(),
      /** on_success_callback, on_failure_callback (of the run) and deadline (callback-spec.ts). */
      ...callbackDagFields,
      tasks: z.array(built(RawTaskSchema)).min(1, "a DAG needs at least one task"),
    })
    .strict(),
);

export type DagSpec = Omit<z.infer<typeof RawDagSchema>, "tasks"> & { tasks: TaskSpec[] };

const HTTP_ENV_FROM =
  "env_from does nothing for an http task (it runs in the control plane, with no process environment); read variables and connections in the request with templates instead, e.g. {{ var.value.KEY }} or {{ conn.ID.password }} (docs/templates.md), or set http.connection_id";

/** Operator-specific required fields, checked after default_args are merged. */
const REQUIRED_BY_OPERATOR: Record<Operator, (t: TaskSpec) => string | null> = {
  bash: (t) => (t.bash_command ? null : "a bash task needs bash_command"),
  python: (t) => (t.python_code || t.python_callable ? null : "a python task needs python_code or python_callable"),
  ts: () => null,
  http: (t) => (t.http ? null : "an http task needs http: { method, url, ... }"),
  container: (t) => (t.image || t.command ? null : "a container task needs image (and usually command)"),
  sensor: (t) =>
    !t.sensor
      ? 'a sensor task needs sensor: { kind: "file" | "http" | "sql" | "external_task" | "time_delta" | "date_time" | "bash" | "ts", ... }'
      : null,
  empty: () => null,
};

/**
 * What an empty task must not set itself: it runs nothing (Airflow's EmptyOperator: the scheduler marks it success
 * once its trigger rule is met), so a command, request or check on it is a mistake. From default_args they are
 * simply not its own.
 */
const RUNS_SOMETHING = ["bash_command", "python_code", "python_callable", "http", "command", "args", "image", "sensor", "inputs"] as const;

function emptyTaskProblems(raw: Record<string, unknown>, taskId: string): { field: string; message: string }[] {
  return RUNS_SOMETHING.filter((f) => raw[f] !== undefined).map((field) => ({
    field,
    message: `task "${taskId}" is an empty task: it runs nothing (the scheduler marks it success once its trigger rule is met), so ${field} would never be used; remove ${field}, or give the task the operator that runs it`,
  }));
}

type Issue = { path: string; message: string };

const zodPath = (path: PropertyKey[]) => path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");

/**
 * Validates raw DAG data (parsed JSON/YAML or an SDK object) and returns the normalized DagSpec.
 * Throws ValidationError listing every problem with its field path (e.g. `tasks[2].upstream`).
 *
 * @example parseDagSpec(JSON.parse(await Bun.file("dag.json").text()))
 */
export function parseDagSpec(raw: unknown): DagSpec {
  // Before the schema, whose walk recurses into values: an http body nested 100,000 deep overflowed the call stack
  // and the file's import error said only "Maximum call stack size exceeded". The walk here keeps its own stack.
  const tooDeep = findJsonProblem(raw, { envelope: true, depthOnly: true });
  if (tooDeep) {
    const issue = {
      path: tooDeep.path,
      message: `nested deeper than ${MAX_JSON_DEPTH} levels: a DAG file's objects and arrays may nest at most ${MAX_JSON_DEPTH} deep; flatten the value or write it as a string`,
    };
    throw new ValidationError(describe([issue]), [issue]);
  }
  const parsed = RawDagSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: zodPath(i.path), message: i.message }));
    throw new ValidationError(describe(issues), issues);
  }
  const dag = parsed.data;
  const issues: Issue[] = [];
  const tasks = dag.tasks.map((raw, i) => {
    const merged = { ...TASK_DEFAULTS, ...stripUndefined(dag.default_args), ...stripUndefined(raw) } as TaskSpec;
    if (merged.expand && merged.expand_kwargs)
      issues.push({ path: `tasks[${i}]`, message: `task "${merged.task_id}" sets both expand and expand_kwargs; use one` });
    // Airflow gates each instance on the same map_index of the previous run; the planner gates by task only.
    if ((merged.expand || merged.expand_kwargs) && merged.depends_on_past)
      issues.push({
        path: `tasks[${i}].depends_on_past`,
        message: `task "${merged.task_id}" is mapped, and depends_on_past is not supported on a mapped task yet; set depends_on_past: false on it (a default_args value included), or set it on the unmapped task the mapping reads from (docs/mapping.md)`,
      });
    // The upstream a mapping reads is a dependency, as in Airflow (an unknown one is reported by checkGraph).
    for (const up of mappingUpstreams(merged)) if (!merged.upstream.includes(up)) merged.upstream = [...merged.upstream, up];
    if (!merged.operator) issues.push({ path: `tasks[${i}].operator`, message: "operator is required" });
    else {
      const missing = REQUIRED_BY_OPERATOR[merged.operator](merged);
      if (missing) issues.push({ path: `tasks[${i}]`, message: missing });
      if (merged.operator === "empty")
        for (const p of emptyTaskProblems(raw, merged.task_id)) issues.push({ path: `tasks[${i}].${p.field}`, message: p.message });
    }
    for (const p of envFromProblems(merged.env_from ?? {}, merged.env))
      issues.push({ path: `tasks[${i}].env_from.${p.key}`, message: `task "${merged.task_id}": ${p.message}` });
    // An http task has no process to give an environment to; one inherited from default_args is simply not its.
    if (merged.operator === "http" && raw.env_from)
      issues.push({ path: `tasks[${i}].env_from`, message: `task "${merged.task_id}": ${HTTP_ENV_FROM}` });
    for (const p of taskTemplateProblems(merged))
      issues.push({ path: `tasks[${i}].${p.path}`, message: `task "${merged.task_id}": ${p.message}` });
    return merged;
  });
  issues.push(...checkGraph(tasks));
  const scheduleProblem = validateSchedule(dag.schedule, dag.timezone);
  if (scheduleProblem) issues.push({ path: scheduleProblem.path, message: scheduleProblem.message });
  if (dag.start_date && dag.end_date && dag.end_date < dag.start_date)
    issues.push({ path: "end_date", message: "end_date is before start_date" });
  issues.push(...paramProblems(dag.params, dag.schedule));
  if (issues.length) throw new ValidationError(describe(issues), issues);
  return { ...dag, tasks };
}

/**
 * Each param's schema must be valid JSON Schema and its default must fit it; a DAG with a schedule may have no
 * required param (one without a default): its scheduled runs have no conf to give it a value.
 */
function paramProblems(params: Record<string, ParamSpec>, schedule: string | null): Issue[] {
  const issues: Issue[] = [];
  for (const [name, param] of Object.entries(params)) {
    const path = `params.${name}`;
    const invalid = paramSchemaProblem(param);
    if (invalid) {
      issues.push({ path, message: invalid });
      continue;
    }
    if (paramHasDefault(param)) {
      const problem = paramValueProblem(name, param, param.default);
      if (problem) issues.push({ path, message: `the default does not fit the param's schema: ${problem}` });
    } else if (schedule !== null && paramIsRequired(param))
      issues.push({
        path,
        message: `param "${name}" has no default, but the DAG has a schedule (${JSON.stringify(schedule)}) and its scheduled runs have no conf to give it a value; give it a default (an optional param: "default": null with "type": ["null", …]), or set "schedule": null to trigger the DAG only by hand (Airflow: "DAG Schedule must be None, if there are any required params without default values")`,
      });
  }
  return issues;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function describe(issues: Issue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
}

/** Duplicate task ids, unknown upstreams, self-references and cycles, each with its path. */
export function checkGraph(tasks: Pick<TaskSpec, "task_id" | "upstream">[]): Issue[] {
  const issues: Issue[] = [];
  const index = new Map<string, number>();
  tasks.forEach((t, i) => {
    if (index.has(t.task_id))
      issues.push({ path: `tasks[${i}].task_id`, message: `duplicate task_id "${t.task_id}" (first at tasks[${index.get(t.task_id)}])` });
    else index.set(t.task_id, i);
  });
  tasks.forEach((t, i) => {
    t.upstream.forEach((u, j) => {
      if (u === t.task_id) issues.push({ path: `tasks[${i}].upstream[${j}]`, message: `task "${u}" lists itself as upstream` });
      else if (!index.has(u))
        issues.push({ path: `tasks[${i}].upstream[${j}]`, message: `unknown upstream task "${u}"; define it in tasks or remove it` });
    });
  });
  if (issues.length) return issues;
  const cycle = findCycle(tasks);
  if (cycle) issues.push({ path: "tasks", message: `cycle detected: ${cycle.join(" -> ")}` });
  return issues;
}

/**
 * Returns one cycle as a list of task ids (first id repeated at the end), or null for a DAG. A depth-first walk with
 * a stack of its own, not recursion: a chain of 50,000 tasks declared leaf first overflowed the call stack.
 */
function findCycle(tasks: Pick<TaskSpec, "task_id" | "upstream">[]): string[] | null {
  const upstream = new Map(tasks.map((t) => [t.task_id, t.upstream]));
  const color = new Map<string, 1 | 2>();
  /** The path walked from the current root, and where each task on it is in its upstream list. */
  const path: string[] = [];
  const next: number[] = [];
  const enter = (id: string) => {
    color.set(id, 1);
    path.push(id);
    next.push(0);
  };
  for (const t of tasks) {
    if (color.has(t.task_id)) continue;
    enter(t.task_id);
    while (path.length) {
      const top = path.length - 1;
      const ups = upstream.get(path[top]!) ?? [];
      if (next[top]! < ups.length) {
        const u = ups[next[top]!++]!;
        const c = color.get(u);
        if (c === 1) return [...path.slice(path.indexOf(u)), u].reverse();
        if (!c) enter(u);
        continue;
      }
      color.set(path.pop()!, 2);
      next.pop();
    }
  }
  return null;
}
