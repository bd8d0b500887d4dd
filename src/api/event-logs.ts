/**
 * Airflow's /api/v2/eventLogs: the audit log of mutating API calls (written by audit.ts), listed with
 * Airflow's filters or fetched by id. Reading it is the Admin's (route-permissions.ts: audit_log:read).
 */
import { Hono } from "hono";
import { z } from "zod";
import { NotFoundError, type AuditLogRecord, built, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { isoDateTime, mapOrderBy, pagingQuery, parsePathParam, parseQuery } from "./validate";
import { teamOf } from "./team";
import { likePattern } from "./list-params";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Airflow's EventLogResponse. */
export function serializeEventLog(e: AuditLogRecord) {
  return {
    event_log_id: e.id,
    when: e.when.toISOString(),
    dag_id: e.dag_id,
    task_id: e.task_id,
    run_id: e.run_id,
    map_index: e.map_index,
    try_number: e.try_number,
    event: e.event,
    logical_date: iso(e.logical_date),
    owner: e.owner,
    extra: e.extra,
    dag_display_name: e.dag_id,
  };
}

const int = lazySchema(() => z.coerce.number().int());
const text = lazySchema(() => z.string().min(1).optional());

export const ListQuery = lazySchema(() =>
  z.object({
    ...pagingQuery,
    dag_id: built(text),
    task_id: built(text),
    run_id: built(text),
    map_index: int.optional(),
    try_number: int.optional(),
    owner: built(text),
    event: built(text),
    excluded_events: z.array(z.string().min(1)).optional(),
    included_events: z.array(z.string().min(1)).optional(),
    before: isoDateTime.optional(),
    after: isoDateTime.optional(),
    dag_id_pattern: likePattern,
    task_id_pattern: likePattern,
    run_id_pattern: likePattern,
    owner_pattern: likePattern,
    event_pattern: likePattern,
  }),
);
const EventLogId = lazySchema(() => z.coerce.number().int().min(0));

export function eventLogRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/eventLogs", async (c) => {
    const q = parseQuery(c, ListQuery, ["excluded_events", "included_events"]);
    const page = await deps.store.listAuditLog(teamOf(c), { ...q, order_by: mapOrderBy(q.order_by, {}) });
    return c.json({ event_logs: page.items.map(serializeEventLog), total_entries: page.total });
  });
  app.get("/eventLogs/:event_log_id", async (c) => {
    const id = parsePathParam("event_log_id", c.req.param("event_log_id"), EventLogId);
    const e = await deps.store.getAuditLog(teamOf(c), id);
    if (!e) throw new NotFoundError(`The Event Log with id: \`${id}\` not found`);
    return c.json(serializeEventLog(e));
  });
  return app;
}
