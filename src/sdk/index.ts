/**
 * `leoflow/sdk`: author DAGs in TypeScript. A DAG file in the DAGs folder calls `dag()`; the server turns it
 * into the same `dag.json` you could write by hand, and `ts` tasks run your function, whose return value
 * becomes the task's `return_value` XCom — typed end to end.
 *
 * @example
 * import { dag, chain } from "leoflow/sdk";
 *
 * dag({ dag_id: "report", schedule: "@daily", start_date: "2026-01-01T00:00:00Z" }, ({ bash, ts, python }) => {
 *   const extract = bash({ task_id: "extract", bash_command: `echo '{"rows": 42}' > "$LEOFLOW_RETURN_VALUE_PATH"` });
 *   const count = ts({ task_id: "count", upstream: [extract] }, () => ({ total: 42 }));
 *   // `ctx.xcom.count` is typed `{ total: number }` because `count` is a ts task listed as upstream.
 *   const double = ts({ task_id: "double", upstream: [count] }, (ctx) => ctx.xcom.count.total * 2);
 *   const print = python({ task_id: "print", python_code: "import os; print(os.environ['LEOFLOW_XCOM_DOUBLE'])" });
 *   chain(double, print);
 * });
 *
 * A file may declare several DAGs; they need not be exported (every `dag()` call registers itself).
 */
import type { z } from "zod";
import { ValidationError, type TaskConnection } from "../domain";
import { parseDagSpec, type RawDagSchema, type RawTaskSchema } from "../domain/schemas";

export type { TaskConnection };

// ---- Types -----------------------------------------------------------------------------------------------

/** What you may write for a DAG, as in dag.json, minus `tasks` (the build callback declares those). */
export type DagOptions = Omit<z.input<typeof RawDagSchema>, "tasks">;

/** A declared task. `R` is the type of its return value (known for `ts` tasks, `unknown` otherwise). */
export interface TaskHandle<Id extends string = string, R = unknown> {
  readonly task_id: Id;
  readonly operator: string;
  /** Phantom: carries the return type for downstream `ts` tasks; never set at run time. */
  readonly __returns?: R;
}

/** An upstream given as a handle (typed XCom for `ts` downstreams) or as a plain task_id. */
export type Upstream = TaskHandle<string, unknown> | string;

type RawTask = z.input<typeof RawTaskSchema>;
/** Fields every task may set (retries, pool, trigger_rule, env, …), as in dag.json. */
type CommonFields = Omit<
  RawTask,
  | "task_id"
  | "operator"
  | "upstream"
  | "bash_command"
  | "python_code"
  | "python_callable"
  | "http"
  | "command"
  | "args"
  | "image"
  | "sensor"
>;
type TaskOptions<Id extends string, U extends readonly Upstream[]> = CommonFields & {
  task_id: Id;
  /** Direct upstream tasks; `chain()` adds more after the fact. */
  upstream?: U;
};

/** The return values of the listed upstreams, keyed by task_id. */
export type XComOf<U extends readonly Upstream[]> = {
  [H in Extract<U[number], TaskHandle<string, unknown>> as H["task_id"]]: H extends TaskHandle<string, infer R> ? R : never;
} & { [Id in Extract<U[number], string>]: unknown };

/** What a `ts` task function receives. */
export interface TaskContext<X = Record<string, unknown>> {
  /** Return values of direct upstreams (those that returned one), keyed by task_id. */
  xcom: X;
  /** DAG params, with the run's conf applied. */
  params: Record<string, unknown>;
  /** The conf the run was triggered with. */
  conf: Record<string, unknown>;
  /** ISO 8601; null for a run without a logical date. */
  logical_date: string | null;
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
  /** A mapped task's instance: 0..n-1 (-1 when the task is not mapped). */
  map_index: number;
  /** A mapped task's arguments for this instance (`expand` / `expand_kwargs`); {} when not mapped. */
  map: Record<string, unknown>;
  /**
   * A variable of the task's team; rejects naming it when it does not exist. Its value is masked as *** in
   * the task's log when its key names a secret (api_key, password, token…).
   */
  var(key: string): Promise<string>;
  /**
   * A connection of the task's team (fields null where unset, `uri` in Airflow's form); rejects naming it when
   * it does not exist. Its password is masked as *** in the task's log.
   */
  conn(id: string): Promise<TaskConnection>;
}

/** A `ts` task function as stored and run by the agent. */
export type TsFunction = (ctx: TaskContext<any>) => unknown;

/** The factories `dag()` passes to its build callback: one per operator. */
export interface Operators {
  bash<const Id extends string, const U extends readonly Upstream[] = []>(
    options: TaskOptions<Id, U> & { bash_command: string },
  ): TaskHandle<Id>;
  python<const Id extends string, const U extends readonly Upstream[] = []>(
    options: TaskOptions<Id, U> & ({ python_code: string } | { python_callable: string }),
  ): TaskHandle<Id>;
  /** The response body (JSON if it parses) becomes the return value. */
  http<const Id extends string, const U extends readonly Upstream[] = []>(
    options: TaskOptions<Id, U> & { http: NonNullable<RawTask["http"]> },
  ): TaskHandle<Id>;
  container<const Id extends string, const U extends readonly Upstream[] = []>(
    options: TaskOptions<Id, U> & { image: string; command?: string[]; args?: string[] },
  ): TaskHandle<Id>;
  /**
   * Runs nothing (Airflow's EmptyOperator): the scheduler marks it success as soon as its trigger rule is met,
   * without a process or a slot. For a start, an end or a join in the graph.
   *
   * @example const done = empty({ task_id: "done", upstream: [load, report] })
   */
  empty<const Id extends string, const U extends readonly Upstream[] = []>(options: TaskOptions<Id, U>): TaskHandle<Id>;
  /**
   * Waits for something (a file, an HTTP answer, a SQL row, another DAG's task, a time) without a process:
   * the control plane checks it every poke_interval while it is deferred (docs/sensors.md). A check of your
   * own is `{ kind: "ts", check }`: truthy is done (a value other than `true` becomes the return_value XCom),
   * falsy is not yet; the task's agent runs it.
   *
   * @example sensor({ task_id: "wait", sensor: { kind: "file", path: "/data/in/*.csv" }, poke_interval: 30, timeout: 3600 })
   * @example sensor({ task_id: "ready", sensor: { kind: "ts", check: async (ctx) => (await ctx.var("ready")) === "yes" } })
   */
  sensor<const Id extends string, const U extends readonly Upstream[] = []>(
    options: TaskOptions<Id, U> & {
      sensor: Exclude<NonNullable<RawTask["sensor"]>, { kind: "ts" }> | { kind: "ts"; check: (ctx: TaskContext<XComOf<U>>) => unknown };
    },
  ): TaskHandle<Id>;
  /** Runs `fn` in the agent; its (awaited, JSON-serialisable) return value becomes the return_value XCom. */
  ts<const Id extends string, const U extends readonly Upstream[] = [], R = unknown>(
    options: TaskOptions<Id, U>,
    fn: (ctx: TaskContext<XComOf<U>>) => R | Promise<R>,
  ): TaskHandle<Id, Awaited<R>>;
}

/** The dag.json object: plain JSON, exactly what you could write by hand. */
export type DagJson = DagOptions & { tasks: RawTask[] };

/** What `dag()` returns. */
export interface Dag {
  readonly dag_id: string;
  /** The plain dag.json object, already validated with parseDagSpec. */
  readonly spec: DagJson;
  /** The functions of `ts` tasks, by task_id. */
  readonly functions: ReadonlyMap<string, TsFunction>;
}

// ---- Registry --------------------------------------------------------------------------------------------

/** Marks Dag objects; a global symbol so a Dag is recognised across copies of this module. */
export const DAG_BRAND = Symbol.for("leoflow.sdk.dag");
const REGISTRY = Symbol.for("leoflow.sdk.registry");
type Registry = { current: Dag[] | null };
const registry: Registry =
  ((globalThis as Record<symbol, unknown>)[REGISTRY] as Registry | undefined) ??
  ((globalThis as Record<symbol, unknown>)[REGISTRY] = { current: null } as Registry);

/** True for an object returned by `dag()` (used by the loader to find exported DAGs). */
export function isDag(value: unknown): value is Dag {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DAG_BRAND] === true;
}

/**
 * Runs `load` (typically an `import()` of one DAG file) and returns the DAGs declared while it ran. The
 * loader serialises calls, so DAGs are never attributed to the wrong file.
 */
export async function collectDags(load: () => Promise<unknown>): Promise<{ dags: Dag[]; result: unknown }> {
  const previous = registry.current;
  const dags: Dag[] = [];
  registry.current = dags;
  try {
    return { dags, result: await load() };
  } finally {
    registry.current = previous;
  }
}

// ---- dag() and chain() -----------------------------------------------------------------------------------

interface Declared {
  raw: RawTask & { upstream: string[] };
}
const declared = new WeakMap<TaskHandle, Declared>();

/**
 * Declares a DAG. `build` receives one factory per operator and declares the tasks; the result is validated
 * with the same rules as dag.json (a ValidationError names each bad field, e.g. `tasks[1].upstream[0]`).
 */
export function dag(options: DagOptions, build: (operators: Operators) => void): Dag {
  const tasks: RawTask[] = [];
  const functions = new Map<string, TsFunction>();

  const declare = (operator: string, options: Record<string, unknown>, fn?: TsFunction): TaskHandle => {
    const { upstream, ...fields } = options as { upstream?: readonly Upstream[] } & Record<string, unknown>;
    const raw = { ...fields, operator, upstream: (upstream ?? []).map(upstreamId) } as Declared["raw"];
    tasks.push(raw);
    if (fn) functions.set(raw.task_id, fn);
    const handle: TaskHandle = Object.freeze({ task_id: raw.task_id, operator });
    declared.set(handle, { raw });
    return handle;
  };

  const operators: Operators = {
    bash: (o) => declare("bash", o) as never,
    python: (o) => declare("python", o) as never,
    http: (o) => declare("http", o) as never,
    container: (o) => declare("container", o) as never,
    empty: (o) => declare("empty", o) as never,
    // A ts check's function stays here; the JSON round trip below drops it from the spec ({ kind: "ts" }).
    sensor: (o) => declare("sensor", o, o.sensor.kind === "ts" ? (o.sensor.check as TsFunction) : undefined) as never,
    ts: (o, fn) => declare("ts", o, fn as TsFunction) as never,
  };
  build(operators);

  // JSON round trip: Dates become ISO strings, undefined fields vanish — the spec is exactly dag.json.
  const spec = JSON.parse(JSON.stringify({ ...options, tasks })) as DagJson;
  try {
    parseDagSpec(spec);
  } catch (e) {
    // Name the DAG: a file may declare several, and the loader reports paths relative to each.
    if (e instanceof ValidationError)
      throw new ValidationError(
        `dag "${spec.dag_id}": ${e.message}`,
        e.issues.map((i) => ({ path: i.path, message: `${i.message} (dag "${spec.dag_id}")` })),
      );
    throw e;
  }
  const result: Dag = Object.freeze({ dag_id: spec.dag_id, spec, functions, [DAG_BRAND]: true });
  registry.current?.push(result);
  return result;
}

/** A task, or several tasks that run in parallel between their neighbours. */
export type ChainLink = TaskHandle<string, unknown> | readonly TaskHandle<string, unknown>[];

/**
 * Makes each link downstream of the previous one: `chain(a, [b, c], d)` is a → b, a → c, b → d, c → d.
 * Call it inside the build callback. Types: only `upstream: [...]` types a `ts` task's `ctx.xcom`.
 */
export function chain(...links: ChainLink[]): void {
  const asList = (l: ChainLink) => (Array.isArray(l) ? l : [l]) as readonly TaskHandle[];
  for (let i = 1; i < links.length; i++) {
    for (const down of asList(links[i]!)) {
      const d = declared.get(down);
      if (!d) throw new Error(`chain(): "${down.task_id}" is not a task declared with this SDK's factories`);
      for (const up of asList(links[i - 1]!)) if (!d.raw.upstream.includes(up.task_id)) d.raw.upstream.push(up.task_id);
    }
  }
}

/**
 * An upstream's XCom to map over (Airflow's `task.output`): `expand: { file: xcomArg(list) }` runs the task once
 * per item of `list`'s return value; the upstream becomes a dependency by itself (docs/mapping.md).
 *
 * @example ts({ task_id: "load", expand: { file: xcomArg(files) } }, (ctx) => load(ctx.map.file as string))
 */
export function xcomArg(task: Upstream, key?: string): { xcom: string; key?: string } {
  return key === undefined ? { xcom: upstreamId(task) } : { xcom: upstreamId(task), key };
}

function upstreamId(u: Upstream): string {
  return typeof u === "string" ? u : u.task_id;
}
