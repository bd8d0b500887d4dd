/** AuditLogStore: the audit log of API calls (Airflow's event log, GET /api/v2/eventLogs). */
import type { AuditLogEntry, AuditLogFilter, AuditLogRecord, Page } from "../../domain";

export interface AuditLogStore {
  /** Appends one entry; returns its id. */
  appendAuditLog(entry: AuditLogEntry): Promise<number>;
  getAuditLog(id: number): Promise<AuditLogRecord | null>;
  /**
   * Page of entries matching every given filter (patterns: case-insensitive LIKE; before/after: `when` strictly
   * before / at or after). order_by accepts id (default), when, dag_id, task_id, run_id, event, owner,
   * logical_date, map_index, try_number; ties by id.
   */
  listAuditLog(filter?: AuditLogFilter): Promise<Page<AuditLogRecord>>;
}
