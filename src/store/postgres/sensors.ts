/** The sensor bookkeeping on Postgres (ports/sensors.ts): each batch is one UPDATE over parallel arrays. */
import type { DagRunState, TaskState } from "../../domain";
import type { DueSensor, RescheduleUpdate, SensorProgress, SensorWaitUpdate } from "../ports/sensors";
import { arrayParam, notIndexed, query, writeByIds, type Db, type Pool } from "./client";

/** Which inputs (by 1-based ordinality) an UPDATE … FROM unnest(…) WITH ORDINALITY changed, as booleans. */
const appliedOf = (n: number, rows: { ord: number }[]): boolean[] => {
  const applied = new Array<boolean>(n).fill(false);
  for (const r of rows) applied[r.ord - 1] = true;
  return applied;
};

export async function prepareSensorWaits(
  sql: Pool,
  items: readonly { id: number; try_number: number; note: string }[],
  now: Date,
): Promise<boolean[]> {
  if (!items.length) return [];
  const rows = await writeByIds(sql, { rows: items.length, statements: 1 }, (db) =>
    query<{ ord: number }>(
      db,
      `UPDATE task_instances t SET sensor_started_at = $1, next_check_at = $1, sensor_checks = 0, note = u.note
       FROM unnest($2::bigint[], $3::int[], $4::text[]) WITH ORDINALITY AS u(id, try_number, note, ord)
       WHERE t.id = ANY($2::bigint[]) AND t.id = u.id AND ${notIndexed("t.try_number = u.try_number AND t.state = 'scheduled'")}
       RETURNING u.ord`,
      [now, items.map((i) => i.id), items.map((i) => i.try_number), items.map((i) => i.note)],
    ),
  );
  return appliedOf(items.length, rows);
}

export async function listDueSensors(db: Db, now: Date, limit: number): Promise<DueSensor[]> {
  return query<DueSensor>(
    db,
    `SELECT t.id, t.dag_run_id, t.team, t.dag_id, t.run_id, t.task_id, t.try_number, t.state, r.version_id, r.logical_date,
            r.queued_at AS run_queued_at, t.sensor_started_at, t.sensor_checks, t.next_check_at
     FROM task_instances t JOIN dag_runs r ON r.id = t.dag_run_id
     WHERE t.state IN ('deferred', 'up_for_reschedule') AND t.next_check_at <= $1 ORDER BY t.next_check_at LIMIT $2`,
    [now, limit],
  );
}

export async function nextSensorCheckAt(db: Db): Promise<Date | null> {
  const [row] = await query<{ at: Date | null }>(
    db,
    "SELECT min(next_check_at) AS at FROM task_instances WHERE state IN ('deferred', 'up_for_reschedule') AND next_check_at IS NOT NULL",
  );
  return row?.at ?? null;
}

export async function recordSensorChecks(sql: Pool, updates: readonly SensorWaitUpdate[]): Promise<boolean[]> {
  if (!updates.length) return [];
  const rows = await writeByIds(sql, { rows: updates.length, statements: 1 }, (db) =>
    query<{ ord: number }>(
      db,
      `UPDATE task_instances t SET next_check_at = u.next_check_at, sensor_checks = t.sensor_checks + 1, note = u.note
       FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS u(id, try_number, next_check_at, note, ord)
       WHERE t.id = ANY($1::bigint[]) AND t.id = u.id AND ${notIndexed("t.try_number = u.try_number AND t.state = 'deferred'")}
       RETURNING u.ord`,
      [
        updates.map((u) => u.id),
        updates.map((u) => u.try_number),
        arrayParam(updates.map((u) => u.next_check_at)),
        updates.map((u) => u.note),
      ],
    ),
  );
  return appliedOf(updates.length, rows);
}

export async function getSensorProgress(db: Db, id: number): Promise<SensorProgress | null> {
  const [row] = await query<{ sensor_started_at: Date | null; sensor_checks: number }>(
    db,
    "SELECT sensor_started_at, sensor_checks FROM task_instances WHERE id = $1",
    [id],
  );
  return row ? { started_at: row.sensor_started_at, checks: row.sensor_checks } : null;
}

export async function recordReschedule(db: Db, u: RescheduleUpdate): Promise<boolean> {
  const rows = await query<{ id: number }>(
    db,
    `UPDATE task_instances SET sensor_started_at = $1, sensor_checks = $2, next_check_at = $3
     WHERE id = $4 AND ${notIndexed("try_number = $5 AND state = 'running'")} RETURNING id`,
    [u.started_at, u.checks, u.next_check_at, u.id, u.try_number],
  );
  return rows.length > 0;
}

export async function externalStates(
  db: Db,
  team: string,
  dagId: string,
  logicalDate: Date,
  taskId: string | null,
): Promise<(TaskState | DagRunState)[]> {
  const rows =
    taskId === null
      ? await query<{ state: DagRunState }>(db, "SELECT state FROM dag_runs WHERE team = $1 AND dag_id = $2 AND logical_date = $3", [
          team,
          dagId,
          logicalDate,
        ])
      : await query<{ state: TaskState }>(
          db,
          `SELECT t.state FROM dag_runs r JOIN task_instances t ON t.dag_run_id = r.id
           WHERE r.team = $1 AND r.dag_id = $2 AND r.logical_date = $3 AND t.task_id = $4`,
          [team, dagId, logicalDate, taskId],
        );
  return rows.map((r) => r.state);
}
