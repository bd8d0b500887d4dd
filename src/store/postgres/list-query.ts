/**
 * limit/offset/order_by for list methods, shared with SQLite: the same allow-list checks, the same
 * ValidationError messages and the same NULL ordering, with `$n` placeholders instead of `?`.
 */
import type { Sortable } from "../sortable";
import type { ListOptions } from "../../domain";
import { pageClause } from "../sqlite/list-query";
import type { Params } from "./client";

/**
 * pageClause (`lead` included) with Postgres placeholders.
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
  const page = pageClause(opts, sortable, defaultOrder, tieBreak, lead);
  return page.sql.replace(" LIMIT ? OFFSET ?", ` LIMIT ${p.add(page.params[0])} OFFSET ${p.add(page.params[1])}`);
}
