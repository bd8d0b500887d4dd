/** The sensor bookkeeping on SQLite (ports/sensors.ts). Times are epoch ms. */
import type { Database } from "bun:sqlite";
import type { DagRunState, TaskState } from "../../domain";
import type { DueSensor, RescheduleUpdate, SensorProgress, SensorWaitUpdate } from "../ports/sensors";

export function prepareSensorWaits(db: Database, items: readonly { id: number; try_number: number; note: string }[], now: Date): boolean[] {
  const t = now.getTime();
  const stmt = db.query(
    `UPDATE task_instances SET sensor_started_at = ?, next_check_at = ?, sensor_checks = 0, note = ?
     WHERE id = ? AND try_number = ? AND state = 'scheduled'`,
  );
  return db.transaction(() => items.map((i) => stmt.run(t, t, i.note, i.id, i.try_number).changes > 0)).immediate();
}

type DueRow = Omit<DueSensor, "logical_date" | "run_queued_at" | "sensor_started_at" | "next_check_at"> & {
  logical_date: number | null;
  run_queued_at: number;
  sensor_started_at: number;
  next_check_at: number;
};

export function listDueSensors(db: Database, now: Date, limit: number): DueSensor[] {
  const rows = db
    .query(
      `SELECT t.id, t.dag_run_id, t.team, t.dag_id, t.run_id, t.task_id, t.try_number, t.state, r.version_id, r.logical_date,
              r.queued_at AS run_queued_at, t.sensor_started_at, t.sensor_checks, t.next_check_at
       FROM task_instances t JOIN dag_runs r ON r.id = t.dag_run_id
       WHERE t.state IN ('deferred', 'up_for_reschedule') AND t.next_check_at <= ? ORDER BY t.next_check_at LIMIT ?`,
    )
    .all(now.getTime(), limit) as DueRow[];
  return rows.map((r) => ({
    ...r,
    logical_date: r.logical_date === null ? null : new Date(r.logical_date),
    run_queued_at: new Date(r.run_queued_at),
    sensor_started_at: new Date(r.sensor_started_at),
    next_check_at: new Date(r.next_check_at),
  }));
}

export function nextSensorCheckAt(db: Database): Date | null {
  const row = db
    .query(
      "SELECT min(next_check_at) AS at FROM task_instances WHERE state IN ('deferred', 'up_for_reschedule') AND next_check_at IS NOT NULL",
    )
    .get() as {
    at: number | null;
  };
  return row.at === null ? null : new Date(row.at);
}

export function recordSensorChecks(db: Database, updates: readonly SensorWaitUpdate[]): boolean[] {
  const stmt = db.query(
    `UPDATE task_instances SET next_check_at = ?, sensor_checks = sensor_checks + 1, note = ?
     WHERE id = ? AND try_number = ? AND state = 'deferred'`,
  );
  return db.transaction(() => updates.map((u) => stmt.run(u.next_check_at.getTime(), u.note, u.id, u.try_number).changes > 0)).immediate();
}

export function getSensorProgress(db: Database, id: number): SensorProgress | null {
  const row = db.query("SELECT sensor_started_at, sensor_checks FROM task_instances WHERE id = ?").get(id) as {
    sensor_started_at: number | null;
    sensor_checks: number;
  } | null;
  return row && { started_at: row.sensor_started_at === null ? null : new Date(row.sensor_started_at), checks: row.sensor_checks };
}

export function recordReschedule(db: Database, u: RescheduleUpdate): boolean {
  return (
    db
      .query(
        `UPDATE task_instances SET sensor_started_at = ?, sensor_checks = ?, next_check_at = ?
         WHERE id = ? AND try_number = ? AND state = 'running'`,
      )
      .run(u.started_at.getTime(), u.checks, u.next_check_at.getTime(), u.id, u.try_number).changes > 0
  );
}

export function externalStates(
  db: Database,
  team: string,
  dagId: string,
  logicalDate: Date,
  taskId: string | null,
): (TaskState | DagRunState)[] {
  const rows =
    taskId === null
      ? db.query("SELECT state FROM dag_runs WHERE team = ? AND dag_id = ? AND logical_date = ?").all(team, dagId, logicalDate.getTime())
      : db
          .query(
            `SELECT t.state FROM dag_runs r JOIN task_instances t ON t.dag_run_id = r.id
             WHERE r.team = ? AND r.dag_id = ? AND r.logical_date = ? AND t.task_id = ?`,
          )
          .all(team, dagId, logicalDate.getTime(), taskId);
  return (rows as { state: TaskState | DagRunState }[]).map((r) => r.state);
}
