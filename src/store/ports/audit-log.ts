/** AuditLogStore: the audit log of API calls (Airflow's event log, GET /api/v2/eventLogs), one per team. */
import type { AuditLogEntry, AuditLogFilter, AuditLogRecord, Page } from "../../domain";

export interface AuditLogStore {
  /** Appends one entry, in the entry's team; returns its id. */
  appendAuditLog(entry: AuditLogEntry): Promise<number>;
  /** The team's entry with this id; null when there is none or it belongs to another team. */
  getAuditLog(team: string, id: number): Promise<AuditLogRecord | null>;
  /**
   * Page of the team's entries matching every given filter (patterns: case-insensitive LIKE; before/after:
   * `when` strictly before / at or after). order_by accepts id (default), when, dag_id, task_id, run_id,
   * event, owner, logical_date, map_index, try_number; ties by id.
   */
  listAuditLog(team: string, filter?: AuditLogFilter): Promise<Page<AuditLogRecord>>;
}
