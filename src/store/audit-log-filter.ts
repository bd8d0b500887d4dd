/**
 * The WHERE clause of the audit log list, shared by both stores: the team and the same filters, with each store's
 * placeholder (`?` or `$n`), LIKE operator (SQLite's LIKE is case-insensitive for ASCII; Postgres: ILIKE)
 * and time encoding (epoch ms or Date).
 */
import type { AuditLogFilter } from "../domain";

export function auditLogWhere(
  team: string,
  f: AuditLogFilter,
  mark: (value: unknown) => string,
  like: "LIKE" | "ILIKE",
  time: (d: Date) => unknown,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const add = (v: unknown) => {
    params.push(v);
    return mark(v);
  };
  // The team first: an entry of another team never matches, whatever the filters.
  const parts: string[] = [`team = ${add(team)}`];
  const equal = ["dag_id", "task_id", "run_id", "map_index", "try_number", "owner", "event"] as const;
  for (const col of equal) if (f[col] !== undefined) parts.push(`${col} = ${add(f[col])}`);
  const patterns = [
    ["dag_id_pattern", "dag_id"],
    ["task_id_pattern", "task_id"],
    ["run_id_pattern", "run_id"],
    ["owner_pattern", "owner"],
    ["event_pattern", "event"],
  ] as const;
  for (const [key, col] of patterns) if (f[key] !== undefined) parts.push(`${col} ${like} ${add(f[key])}`);
  if (f.included_events?.length) parts.push(`event IN (${f.included_events.map(add).join(", ")})`);
  if (f.excluded_events?.length) parts.push(`event NOT IN (${f.excluded_events.map(add).join(", ")})`);
  if (f.after) parts.push(`dttm >= ${add(time(f.after))}`);
  if (f.before) parts.push(`dttm < ${add(time(f.before))}`);
  return { sql: ` WHERE ${parts.join(" AND ")}`, params };
}
