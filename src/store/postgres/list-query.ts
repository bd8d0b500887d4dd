/**
 * limit/offset/order_by for list methods, shared with SQLite: the same allow-list checks, the same
 * ValidationError messages and the same NULL ordering, with `$n` placeholders instead of `?`.
 */
import type { Sortable } from "../sortable";
import type { ListOptions } from "../../domain";
import { pageClause } from "../sqlite/list-query";
import type { Params } from "./client";

/**
 * pageClause with Postgres placeholders. `lead`: a column every listed row has the same value of, put first in
 * the ORDER BY (the order is the same): it keeps Postgres from walking another index in the requested order,
 * e.g. the primary key by id through every older row to reach one run's (filter-queries.ts taskInstanceListSql).
 *
 * @example pgPageClause({ order_by: "-start_date", limit: 10 }, { start_date: "start_date", id: "id" }, "id", "id", p)
 *   // " ORDER BY start_date DESC NULLS FIRST, id DESC LIMIT $1 OFFSET $2"
 */
export function pgPageClause(
  opts: ListOptions,
  sortable: Sortable,
  defaultOrder: string,
  tieBreak: string | string[],
  p: Params,
  lead?: string,
): string {
  const page = pageClause(opts, sortable, defaultOrder, tieBreak);
  const sql = lead ? page.sql.replace(" ORDER BY ", ` ORDER BY ${lead}, `) : page.sql;
  return sql.replace(" LIMIT ? OFFSET ?", ` LIMIT ${p.add(page.params[0])} OFFSET ${p.add(page.params[1])}`);
}
