/**
 * WHERE and ORDER BY for the API's DAG list, shared by both stores: each store supplies its dialect (how a
 * value, a list, a tag set and a task owner are tested), so one function decides which DAGs a filter keeps
 * and SQLite and Postgres agree. The query this builds for is `dags d JOIN dag_versions v … LEFT JOIN
 * dag_runs lr` where `lr` is the DAG's latest started run (DAG_LATEST_RUN_JOIN).
 */
import { ValidationError } from "../domain";
import type { SqlDialect } from "./list-filters";
import type { DagFilter } from "./ports/api-dags";

export interface DagSqlDialect extends SqlDialect {
  /** True when the DAG (alias d) has the tag. */
  hasTag(tag: string): string;
  /** True when a task of the DAG's current spec (alias v) has an owner matching the LIKE pattern. */
  ownerLike(pattern: string): string;
  /** A boolean value as the store keeps it. */
  bool(b: boolean): unknown;
}

/** The latest run that started, per DAG (Airflow: the highest run id with a start_date), joined as `lr`. */
export const DAG_LATEST_RUN_JOIN =
  " LEFT JOIN dag_runs lr ON lr.id = (SELECT max(r.id) FROM dag_runs r WHERE r.team = d.team AND r.dag_id = d.dag_id AND r.start_date IS NOT NULL)";

const OPS = { gte: ">=", gt: ">", lte: "<=", lt: "<" } as const;

/** `%`, `_` and `\` taken literally inside a LIKE pattern. */
export const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export function dagWhere(d: DagSqlDialect, f: DagFilter): string[] {
  const where: string[] = [];
  if (f.only_active) where.push(`d.is_active = ${d.param(d.bool(true))}`);
  if (f.paused !== undefined) where.push(`d.is_paused = ${d.param(d.bool(f.paused))}`);
  for (const pattern of f.dag_id_patterns ?? []) where.push(d.ilike("d.dag_id", pattern));
  if (f.tags?.length) where.push(`(${f.tags.map((t) => d.hasTag(t)).join(f.tags_match_mode === "all" ? " AND " : " OR ")})`);
  if (f.owners?.length) where.push(`(${f.owners.map((o) => d.ownerLike(`%${escapeLike(o)}%`)).join(" OR ")})`);
  if (f.has_import_errors !== undefined)
    where.push(
      `${f.has_import_errors ? "" : "NOT "}EXISTS (SELECT 1 FROM import_errors ie WHERE ie.team = d.team AND ie.filename = d.fileloc)`,
    );
  if (f.last_run_state?.length) where.push(d.inList("lr.state", f.last_run_state));
  for (const [column, range] of [
    ["lr.start_date", f.last_run_start_date],
    ["lr.end_date", f.last_run_end_date],
  ] as const)
    for (const k of Object.keys(OPS) as (keyof typeof OPS)[])
      if (range?.[k] !== undefined) where.push(`${column} ${OPS[k]} ${d.param(d.date(range[k]))}`);
  return where;
}

/** API sort keys → columns; dag_display_name is the dag_id (Leoflow has no display names). */
const DAG_ORDER: Record<string, string> = {
  dag_id: "d.dag_id",
  dag_display_name: "d.dag_id",
  fileloc: "d.fileloc",
  is_paused: "d.is_paused",
  is_active: "d.is_active",
  last_parsed_at: "d.last_parsed_at",
  last_run_state: "lr.state",
  last_run_start_date: "lr.start_date",
};

/** Airflow caps the number of sort keys. */
const MAX_SORT_KEYS = 10;

/** ` ORDER BY …` for one or more keys (`-` for descending), dag_id last so paging is stable; 400 naming a bad key. */
export function dagOrderBy(keys: string[]): string {
  if (keys.length > MAX_SORT_KEYS)
    throw new ValidationError(
      `Ordering with more than ${MAX_SORT_KEYS} parameters is not allowed; send at most ${MAX_SORT_KEYS} order_by values`,
      [{ path: "order_by", message: `at most ${MAX_SORT_KEYS} values` }],
    );
  const parts = (keys.length ? keys : ["dag_id"]).map((raw) => {
    const desc = raw.startsWith("-");
    const field = desc ? raw.slice(1) : raw;
    const column = Object.hasOwn(DAG_ORDER, field) ? DAG_ORDER[field] : undefined;
    if (!column) {
      const allowed = Object.keys(DAG_ORDER).join(", ");
      throw new ValidationError(
        `Ordering with '${field}' is disallowed or the attribute does not exist on the model; order_by accepts ${allowed} (prefix "-" for descending)`,
        [{ path: "order_by", message: `unknown field "${field}"; use one of ${allowed}` }],
      );
    }
    return `${column} ${desc ? "DESC NULLS FIRST" : "ASC NULLS LAST"}`;
  });
  const firstDesc = (keys[0] ?? "").startsWith("-");
  return ` ORDER BY ${parts.join(", ")}, d.dag_id ${firstDesc ? "DESC" : "ASC"}`;
}

/** The sort keys a filter asks for. */
export const dagSortKeys = (f: DagFilter): string[] => f.order_by_list ?? (f.order_by ? [f.order_by] : []);

/** Limit and offset, checked like every other list. */
export function dagPaging(f: DagFilter): [number, number] {
  const limit = f.limit ?? 100;
  const offset = f.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(offset) || offset < 0)
    throw new ValidationError(`limit and offset must be non-negative integers, got ${limit} and ${offset}`, [
      { path: "limit", message: "must be a non-negative integer" },
    ]);
  return [limit, offset];
}
