/**
 * limit/offset/order_by for list methods. order_by is Airflow's: a field name, `-field` for descending.
 * Only allow-listed fields reach SQL; NULLs sort as Postgres sorts them by default (last ascending, first
 * descending) so both stores page identically.
 */
import { ValidationError, type ListOptions } from "../../domain";
import type { Sortable } from "../sortable";

export const DEFAULT_LIMIT = 100;

export interface PageClause {
  /** ` ORDER BY … LIMIT ? OFFSET ?` */
  sql: string;
  params: [number, number];
}

/**
 * `lead`: a column every listed row has the same value of, put first in the ORDER BY (the order is the same): it
 * keeps Postgres from walking another index in the requested order, e.g. the primary key by id through every older
 * row to reach one run's (postgres/filter-queries.ts taskInstanceListSql).
 *
 * @example pageClause({ order_by: "-start_date", limit: 10 }, { start_date: "start_date", id: "id" }, "id", "id")
 *   // { sql: " ORDER BY start_date DESC NULLS FIRST, id DESC LIMIT ? OFFSET ?", params: [10, 0] }
 */
export function pageClause(
  opts: ListOptions,
  sortable: Sortable,
  defaultOrder: string,
  tieBreak: string | string[],
  lead?: string,
): PageClause {
  const limit = opts.limit ?? DEFAULT_LIMIT;
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 0)
    throw new ValidationError(`limit must be a non-negative integer, got ${limit}`, [
      { path: "limit", message: "must be a non-negative integer" },
    ]);
  if (!Number.isInteger(offset) || offset < 0)
    throw new ValidationError(`offset must be a non-negative integer, got ${offset}`, [
      { path: "offset", message: "must be a non-negative integer" },
    ]);

  const raw = opts.order_by?.trim() || defaultOrder;
  const desc = raw.startsWith("-");
  const field = desc ? raw.slice(1) : raw;
  const column = Object.hasOwn(sortable, field) ? sortable[field] : undefined;
  if (!column) {
    const allowed = Object.keys(sortable).join(", ");
    throw new ValidationError(`cannot order by "${field}"; order_by accepts ${allowed} (prefix "-" for descending)`, [
      { path: "order_by", message: `unknown field "${field}"; use one of ${allowed}` },
    ]);
  }
  const dir = desc ? "DESC NULLS FIRST" : "ASC NULLS LAST";
  // Unique columns after the requested one make paging stable when many rows share its value.
  const ties = [tieBreak]
    .flat()
    .filter((c) => c !== column)
    .map((c) => `, ${c} ${desc ? "DESC" : "ASC"}`);
  return { sql: ` ORDER BY ${lead ? `${lead}, ` : ""}${column} ${dir}${ties.join("")} LIMIT ? OFFSET ?`, params: [limit, offset] };
}
