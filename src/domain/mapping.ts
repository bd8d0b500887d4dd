/**
 * Dynamic task mapping (Airflow's `expand`, `expand_kwargs` and `partial`): the pure expansion of a task's
 * mapping (its schema is mapping-schema.ts) of it into one set of keyword values per map_index. The scheduler loads the
 * upstream XComs a mapping names (`mappingRefs`) and calls `expandTask`; the agent RPC calls `mappedValues`
 * to give one instance its values. The task's ordinary fields are Airflow's `partial`: every instance shares them.
 */
import type { XComRef } from "./mapping-schema";

export type { XComRef };

/** The mapping fields of a task. */
export interface MappingFields {
  task_id: string;
  expand?: Record<string, unknown[] | XComRef>;
  expand_kwargs?: Record<string, unknown>[] | XComRef;
}

/** Airflow's default for `max_map_length`. */
export const DEFAULT_MAX_MAP_LENGTH = 1024;

export const isMapped = (task: MappingFields): boolean => task.expand !== undefined || task.expand_kwargs !== undefined;

const isRef = (v: unknown): v is XComRef => typeof v === "object" && v !== null && !Array.isArray(v) && "xcom" in v;

/** The key of a loaded XCom in the `sources` map: `task_id` and key. */
export const sourceKey = (ref: XComRef): string => `${ref.xcom}\u0000${ref.key ?? "return_value"}`;

/** The upstream XComs a task's mapping reads (none for literal lists). */
export function mappingRefs(task: MappingFields): XComRef[] {
  if (task.expand_kwargs !== undefined) return isRef(task.expand_kwargs) ? [task.expand_kwargs] : [];
  return Object.values(task.expand ?? {}).filter(isRef);
}

/** The upstream task_ids a mapping reads, which every mapped task depends on (as in Airflow). */
export const mappingUpstreams = (task: MappingFields): string[] => [...new Set(mappingRefs(task).map((r) => r.xcom))];

/** `upstream_failed`: an upstream it expands over pushed nothing (skipped, or failed under all_done), as Airflow's. */
export type Expansion =
  | { kind: "instances"; count: number }
  | { kind: "empty"; reason: string }
  | { kind: "failed"; reason: string }
  | { kind: "upstream_failed"; reason: string };

/** A JSON value's type as a person reads it. */
export function jsonTypeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "list";
  if (typeof v === "object") return "object";
  return typeof v;
}

type Failure = { failed: string; missing?: true };
type Loaded = { lists: [string, unknown[]][] } | { kwargs: Record<string, unknown>[] } | Failure;

/**
 * Resolves every XCom reference of the mapping to a list. `sources` holds the loaded XComs by `sourceKey`
 * (absent: the upstream pushed none). Fails naming the task, the upstream and what it found.
 */
function load(task: MappingFields, sources: ReadonlyMap<string, unknown>): Loaded {
  /**
   * `dicts`: an object maps over its [key, value] pairs, as Airflow maps over a dict's items (expand, not
   * expand_kwargs). In key order: Postgres's jsonb keeps no insertion order, and map indexes must mean the same
   * pairs on both stores.
   */
  const fromXCom = (ref: XComRef, dicts: boolean): unknown[] | Failure => {
    const key = ref.key ?? "return_value";
    const where = `the XCom ${key === "return_value" ? "" : `${key} `}of upstream ${ref.xcom}`;
    if (!sources.has(sourceKey(ref))) return { failed: `task ${task.task_id} expands over ${where}, which pushed none`, missing: true };
    const v = sources.get(sourceKey(ref));
    if (dicts && jsonTypeName(v) === "object")
      return Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (!Array.isArray(v))
      return {
        failed: `task ${task.task_id} expands over ${where}, which is a ${jsonTypeName(v)}, not a list${dicts ? " or an object" : ""}`,
      };
    return v;
  };
  if (task.expand_kwargs !== undefined) {
    const list = isRef(task.expand_kwargs) ? fromXCom(task.expand_kwargs, false) : task.expand_kwargs;
    if (!Array.isArray(list)) return list;
    const bad = list.findIndex((item) => jsonTypeName(item) !== "object");
    if (bad >= 0)
      return {
        failed: `task ${task.task_id} expand_kwargs item ${bad} is a ${jsonTypeName(list[bad])}, not an object of arguments`,
      };
    return { kwargs: list as Record<string, unknown>[] };
  }
  const lists: [string, unknown[]][] = [];
  for (const [name, v] of Object.entries(task.expand ?? {})) {
    const list = isRef(v) ? fromXCom(v, true) : v;
    if (!Array.isArray(list)) return list;
    lists.push([name, list]);
  }
  return { lists };
}

const lengthOf = (l: Exclude<Loaded, { failed: string }>): number =>
  "kwargs" in l ? l.kwargs.length : l.lists.reduce((n, [, list]) => n * list.length, 1);

/**
 * How many instances a mapped task expands to, or why it is skipped (an empty list, as in Airflow) or fails
 * (a non-list XCom, an XCom never pushed, more than `maxLength` instances).
 *
 * @example expandTask({ task_id: "t", expand: { x: [1, 2] } }, new Map(), 1024) // { kind: "instances", count: 2 }
 */
export function expandTask(task: MappingFields, sources: ReadonlyMap<string, unknown>, maxLength: number): Expansion {
  const loaded = load(task, sources);
  if ("failed" in loaded) return { kind: loaded.missing ? "upstream_failed" : "failed", reason: loaded.failed };
  const count = lengthOf(loaded);
  if (count > maxLength)
    return {
      kind: "failed",
      reason: `task ${task.task_id} expands to ${count.toLocaleString("en-US")} items, over the limit of ${maxLength} (--max-map-length)`,
    };
  if (count === 0) {
    const empty = "kwargs" in loaded ? ["expand_kwargs"] : loaded.lists.filter(([, l]) => l.length === 0).map(([n]) => n);
    return { kind: "empty", reason: `mapped over an empty list (${empty.join(", ")}): no instances to run` };
  }
  return { kind: "instances", count };
}

/**
 * The arguments of instance `mapIndex`: for `expand`, the cross product in Airflow's order (the last
 * argument varies fastest); for `expand_kwargs`, the object at that index. Null when the index is out of
 * range or the mapping cannot be loaded (the upstream changed since the expansion).
 *
 * @example mappedValues({ task_id: "t", expand: { x: [1, 2], y: ["a", "b"] } }, new Map(), 1) // { x: 1, y: "b" }
 */
export function mappedValues(task: MappingFields, sources: ReadonlyMap<string, unknown>, mapIndex: number): Record<string, unknown> | null {
  const loaded = load(task, sources);
  if ("failed" in loaded || mapIndex < 0 || mapIndex >= lengthOf(loaded)) return null;
  if ("kwargs" in loaded) return { ...loaded.kwargs[mapIndex] };
  const values: Record<string, unknown> = {};
  let rest = mapIndex;
  for (let i = loaded.lists.length - 1; i >= 0; i--) {
    const [name, list] = loaded.lists[i]!;
    values[name] = list[rest % list.length];
    rest = Math.floor(rest / list.length);
  }
  return Object.fromEntries(loaded.lists.map(([name]) => [name, values[name]]));
}
