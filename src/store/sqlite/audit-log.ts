/** The audit log (GET /api/v2/eventLogs), each team's its own: append, get, and a filtered page. */
import type { Database } from "bun:sqlite";
import type { AuditLogEntry, AuditLogFilter, AuditLogRecord, Page } from "../../domain";
import { AUDIT_LOG_SORTABLE } from "../sortable";
import { auditLogWhere } from "../audit-log-filter";
import { pageClause } from "./list-query";

const COLUMNS = "id, team, dttm, event, owner, dag_id, run_id, task_id, map_index, try_number, logical_date, extra";

interface Row extends Omit<AuditLogRecord, "when" | "logical_date"> {
  dttm: number;
  logical_date: number | null;
}

const toRecord = ({ dttm, logical_date, ...r }: Row): AuditLogRecord => ({
  ...r,
  when: new Date(dttm),
  logical_date: logical_date === null ? null : new Date(logical_date),
});

export function appendAuditLog(db: Database, e: AuditLogEntry): number {
  const row = db
    .query(
      `INSERT INTO audit_log (team, dttm, event, owner, dag_id, run_id, task_id, map_index, try_number, logical_date, extra)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    )
    .get(
      e.team,
      e.when.getTime(),
      e.event,
      e.owner,
      e.dag_id,
      e.run_id,
      e.task_id,
      e.map_index,
      e.try_number,
      e.logical_date?.getTime() ?? null,
      e.extra,
    ) as { id: number };
  return row.id;
}

export function getAuditLog(db: Database, team: string, id: number): AuditLogRecord | null {
  const row = db.query(`SELECT ${COLUMNS} FROM audit_log WHERE team = ? AND id = ?`).get(team, id) as Row | null;
  return row ? toRecord(row) : null;
}

export function listAuditLog(db: Database, team: string, filter: AuditLogFilter = {}): Page<AuditLogRecord> {
  const w = auditLogWhere(
    team,
    filter,
    () => "?",
    "LIKE",
    (d) => d.getTime(),
  );
  const page = pageClause(filter, AUDIT_LOG_SORTABLE, "id", "id");
  const rows = db.query(`SELECT ${COLUMNS} FROM audit_log${w.sql}${page.sql}`).all(...(w.params as never[]), ...page.params) as Row[];
  const { n } = db.query(`SELECT count(*) AS n FROM audit_log${w.sql}`).get(...(w.params as never[])) as { n: number };
  return { items: rows.map(toRecord), total: n };
}
