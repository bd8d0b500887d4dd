/** The audit log (GET /api/v2/eventLogs), each team's its own: append, get, and a filtered page. */
import type { AuditLogEntry, AuditLogFilter, AuditLogRecord, Page } from "../../domain";
import { auditLogWhere } from "../audit-log-filter";
import { AUDIT_LOG_SORTABLE } from "../sortable";
import { Params, query, type Db } from "./client";
import { pgPageClause } from "./list-query";

const COLUMNS = 'id, team, dttm AS "when", event, owner, dag_id, run_id, task_id, map_index, try_number, logical_date, extra';

export async function appendAuditLog(db: Db, e: AuditLogEntry): Promise<number> {
  const [row] = await query<{ id: number }>(
    db,
    `INSERT INTO audit_log (team, dttm, event, owner, dag_id, run_id, task_id, map_index, try_number, logical_date, extra)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [e.team, e.when, e.event, e.owner, e.dag_id, e.run_id, e.task_id, e.map_index, e.try_number, e.logical_date, e.extra],
  );
  return row!.id;
}

export async function getAuditLog(db: Db, team: string, id: number): Promise<AuditLogRecord | null> {
  const [row] = await query<AuditLogRecord>(db, `SELECT ${COLUMNS} FROM audit_log WHERE team = $1 AND id = $2`, [team, id]);
  return row ?? null;
}

export async function listAuditLog(db: Db, team: string, filter: AuditLogFilter = {}): Promise<Page<AuditLogRecord>> {
  const p = new Params();
  const w = auditLogWhere(
    team,
    filter,
    (v) => p.add(v),
    "ILIKE",
    (d) => d,
  );
  const filterParams = [...p.values];
  const page = pgPageClause(filter, AUDIT_LOG_SORTABLE, "id", "id", p);
  const items = await query<AuditLogRecord>(db, `SELECT ${COLUMNS} FROM audit_log${w.sql}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM audit_log${w.sql}`, filterParams)) as [{ n: number }];
  return { items, total: n };
}
