/** Scheduling on SQLite: the cron scheduler's DAG read, run-start limits, and backfills. */
import type { Database } from "bun:sqlite";
import {
  backfillSkipReason,
  ConflictError,
  type DagRunState,
  type BackfillRecord,
  type ListOptions,
  type NewBackfill,
  type Page,
  type ReprocessBehavior,
  type RunGates,
  type DagRef,
  type ScheduledDag,
  teamKey,
} from "../../domain";
import { BACKFILL_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";
import { DAG_COLUMNS, DAG_FROM, toDag, type DagRow } from "./rows";
import { createDagRun } from "./runs";

/**
 * Whether a DAG version has a schedule, by version id, per database. A version never changes and its id is
 * never reused (AUTOINCREMENT), and testing the spec on every sweep parsed every active DAG's whole spec
 * (megabytes for a 10,000-task DAG), scheduled or not. Holds only the versions of the DAGs the last sweep
 * looked at.
 */
const scheduledCache = new WeakMap<Database, Map<number, boolean>>();

export function listScheduledDags(db: Database): ScheduledDag[] {
  let known = scheduledCache.get(db);
  if (!known) scheduledCache.set(db, (known = new Map()));
  const cache = known;
  const rows = db
    .transaction(() => {
      const current = (
        db.query("SELECT DISTINCT version_id FROM dags WHERE is_active = 1 AND is_paused = 0").all() as { version_id: number }[]
      ).map((r) => r.version_id);
      const missing = current.filter((id) => !cache.has(id));
      if (missing.length)
        for (const r of db
          .query(
            `SELECT id, json_extract(spec, '$.schedule') IS NOT NULL AS scheduled
             FROM dag_versions WHERE id IN (SELECT value FROM json_each(?))`,
          )
          .all(JSON.stringify(missing)) as { id: number; scheduled: number }[])
          cache.set(r.id, r.scheduled === 1);
      const looked = new Set(current);
      for (const id of cache.keys()) if (!looked.has(id)) cache.delete(id);
      const scheduled = current.filter((id) => cache.get(id) === true);
      if (scheduled.length === 0) return [];
      return db
        .query(
          `SELECT ${DAG_COLUMNS},
             (SELECT max(r.logical_date) FROM dag_runs r WHERE r.team = d.team AND r.dag_id = d.dag_id AND r.run_type = 'scheduled') AS latest,
             (SELECT count(*) FROM dag_runs r WHERE r.team = d.team AND r.dag_id = d.dag_id AND r.state IN ('queued', 'running') AND r.backfill_id IS NULL) AS active
           FROM ${DAG_FROM}
           WHERE d.is_active = 1 AND d.is_paused = 0 AND d.version_id IN (SELECT value FROM json_each(?))
           ORDER BY d.team, d.dag_id`,
        )
        .all(JSON.stringify(scheduled)) as (DagRow & { latest: number | null; active: number })[];
    })
    .deferred();
  return rows.map((r) => ({
    dag: toDag(r),
    latest_scheduled_logical_date: r.latest == null ? null : new Date(r.latest),
    active_runs: r.active,
  }));
}

type GateDagRow = { team: string; dag_id: string; is_paused: number; version_id: number; running: number };

/**
 * max_active_runs by DAG version id, per database. A version never changes, and reading the field out of
 * the spec's JSON on every tick parsed the whole spec (a megabyte for a 10,000-task DAG) each time.
 */
const maxActiveRunsCache = new WeakMap<Database, Map<number, number>>();

function maxActiveRunsOf(db: Database, versionIds: readonly number[]): ReadonlyMap<number, number> {
  let cache = maxActiveRunsCache.get(db);
  if (!cache) maxActiveRunsCache.set(db, (cache = new Map()));
  const missing = [...new Set(versionIds)].filter((id) => !cache.has(id));
  if (missing.length) {
    const rows = db
      .query(
        `SELECT id, coalesce(json_extract(spec, '$.max_active_runs'), 16) AS max_active_runs
         FROM dag_versions WHERE id IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(missing)) as { id: number; max_active_runs: number }[];
    for (const r of rows) cache.set(r.id, r.max_active_runs);
  }
  return cache;
}

export function loadRunGates(db: Database, runIds: number[], extraDags: readonly DagRef[] = []): RunGates {
  const gates: RunGates = { runs: [], dags: new Map(), backfills: new Map() };
  if (runIds.length === 0 && extraDags.length === 0) return gates;
  return db
    .transaction(() => {
      if (runIds.length)
        gates.runs = db
          .query(
            `SELECT id, team, dag_id, state, backfill_id, CASE WHEN state = 'queued' THEN run_after END AS run_after FROM dag_runs
         WHERE id IN (SELECT value FROM json_each(?)) AND state IN ('queued', 'running') ORDER BY id`,
          )
          .all(JSON.stringify(runIds))
          .map((r) => {
            const row = r as Omit<RunGates["runs"][number], "run_after"> & { run_after: number | null };
            return { ...row, run_after: row.run_after === null ? null : new Date(row.run_after) };
          });
      // The DAGs as [team, dag_id] pairs: the same dag_id may belong to two teams.
      const pairs = new Map<string, [string, string]>();
      for (const r of [...gates.runs, ...extraDags]) pairs.set(teamKey(r.team, r.dag_id), [r.team, r.dag_id]);
      if (pairs.size === 0) return gates;
      // The count repeats the dag_runs_running index's WHERE terms (0023): SQLite reads a partial index only then.
      const dags = db
        .query(
          `SELECT d.team, d.dag_id, d.is_paused, d.version_id,
           (SELECT count(*) FROM dag_runs r
             WHERE r.team = d.team AND r.dag_id = d.dag_id AND r.state IN ('queued', 'running') AND r.state = 'running'
               AND r.backfill_id IS NULL) AS running
         FROM dags d
         WHERE (d.team, d.dag_id) IN (SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each(?))`,
        )
        .all(JSON.stringify([...pairs.values()])) as GateDagRow[];
      const maxActiveRuns = maxActiveRunsOf(
        db,
        dags.map((d) => d.version_id),
      );
      for (const d of dags) {
        const max = maxActiveRuns.get(d.version_id);
        if (max !== undefined)
          gates.dags.set(teamKey(d.team, d.dag_id), { is_paused: d.is_paused === 1, max_active_runs: max, running: d.running });
      }
      const backfillIds = [...new Set(gates.runs.flatMap((r) => (r.backfill_id == null ? [] : [r.backfill_id])))];
      if (backfillIds.length) {
        const bfs = db
          .query(
            `SELECT b.id, b.is_paused, b.max_active_runs,
             (SELECT count(*) FROM dag_runs r WHERE r.backfill_id = b.id AND r.state = 'running') AS running
           FROM backfills b WHERE b.id IN (SELECT value FROM json_each(?))`,
          )
          .all(JSON.stringify(backfillIds)) as { id: number; is_paused: number; max_active_runs: number; running: number }[];
        for (const b of bfs)
          gates.backfills.set(b.id, { is_paused: b.is_paused === 1, max_active_runs: b.max_active_runs, running: b.running });
      }
      return gates;
    })
    .deferred();
}

interface BackfillRow {
  id: number;
  team: string;
  dag_id: string;
  from_date: number;
  to_date: number;
  run_backwards: number;
  dag_run_conf: string | null;
  is_paused: number;
  reprocess_behavior: string;
  max_active_runs: number;
  created_at: number;
  completed_at: number | null;
  updated_at: number;
}
const BACKFILL_COLUMNS =
  "id, team, dag_id, from_date, to_date, run_backwards, dag_run_conf, is_paused, reprocess_behavior, max_active_runs, created_at, completed_at, updated_at";

const toBackfill = (r: BackfillRow): BackfillRecord => ({
  id: r.id,
  team: r.team,
  dag_id: r.dag_id,
  from_date: new Date(r.from_date),
  to_date: new Date(r.to_date),
  run_backwards: r.run_backwards === 1,
  dag_run_conf: r.dag_run_conf == null ? null : (JSON.parse(r.dag_run_conf) as Record<string, unknown>),
  is_paused: r.is_paused === 1,
  reprocess_behavior: r.reprocess_behavior as ReprocessBehavior,
  max_active_runs: r.max_active_runs,
  created_at: new Date(r.created_at),
  completed_at: r.completed_at == null ? null : new Date(r.completed_at),
  updated_at: new Date(r.updated_at),
});

/**
 * Store.latestRunStates, and createBackfill's read of the same inside its transaction: one statement for all dates.
 * Latest: started last (a run never started counts as earliest), then the higher id.
 */
export function latestRunStates(db: Database, team: string, dagId: string, logicalDates: readonly Date[]): Map<number, DagRunState> {
  const states = new Map<number, DagRunState>();
  if (logicalDates.length === 0) return states;
  const rows = db
    .query(
      `SELECT logical_date, state FROM (
         SELECT logical_date, state,
           row_number() OVER (PARTITION BY logical_date ORDER BY start_date IS NULL, start_date DESC, id DESC) AS nth
         FROM dag_runs WHERE team = ? AND dag_id = ? AND logical_date IN (SELECT value FROM json_each(?))
       ) WHERE nth = 1`,
    )
    .all(team, dagId, JSON.stringify(logicalDates.map((d) => d.getTime()))) as { logical_date: number; state: DagRunState }[];
  for (const r of rows) states.set(r.logical_date, r.state);
  return states;
}

export function createBackfill(db: Database, input: NewBackfill) {
  const t = input.now.getTime();
  return db
    .transaction(() => {
      const open = db
        .query("SELECT id FROM backfills WHERE team = ? AND dag_id = ? AND completed_at IS NULL")
        .get(input.team, input.dag_id) as {
        id: number;
      } | null;
      if (open)
        throw new ConflictError(
          `There is already a running backfill for dag ${input.dag_id} (backfill ${open.id}); wait for it, or cancel it with PUT /api/v2/backfills/${open.id}/cancel`,
        );
      const { id } = db
        .query(
          `INSERT INTO backfills (team, dag_id, from_date, to_date, run_backwards, dag_run_conf, is_paused, reprocess_behavior, max_active_runs, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id`,
        )
        .get(
          input.team,
          input.dag_id,
          input.from_date.getTime(),
          input.to_date.getTime(),
          input.run_backwards ? 1 : 0,
          input.dag_run_conf == null ? null : JSON.stringify(input.dag_run_conf),
          input.reprocess_behavior,
          input.max_active_runs,
          t,
          t,
        ) as { id: number };
      const latest = latestRunStates(
        db,
        input.team,
        input.dag_id,
        input.runs.map((r) => r.logical_date!),
      );
      const taken = db.query("SELECT 1 FROM dag_runs WHERE team = ? AND dag_id = ? AND run_id = ?");
      const link = db.query("UPDATE dag_runs SET backfill_id = ? WHERE id = ?");
      const created: number[] = [];
      const skipped: { logical_date: Date; reason: string }[] = [];
      for (const run of input.runs) {
        const state = latest.get(run.logical_date!.getTime());
        const reason = backfillSkipReason(input.skip_existing, state);
        if (reason) {
          skipped.push({ logical_date: run.logical_date!, reason });
          continue;
        }
        const runId = taken.get(input.team, input.dag_id, run.run_id) ? `${run.run_id}_${id}` : run.run_id;
        // The backfill's team, whatever the planned run says: a backfill's runs belong to its DAG's team.
        const record = createDagRun(db, { ...run, team: input.team, run_id: runId });
        link.run(id, record.id);
        created.push(record.id);
      }
      return { backfill: getBackfill(db, input.team, id)!, created, skipped };
    })
    .immediate();
}

export function getBackfill(db: Database, team: string, id: number): BackfillRecord | null {
  const row = db.query(`SELECT ${BACKFILL_COLUMNS} FROM backfills WHERE team = ? AND id = ?`).get(team, id) as BackfillRow | null;
  return row ? toBackfill(row) : null;
}

export function listBackfills(db: Database, team: string, opts: ListOptions & { dag_id?: string } = {}): Page<BackfillRecord> {
  const where = opts.dag_id === undefined ? " WHERE team = ?" : " WHERE team = ? AND dag_id = ?";
  const params = opts.dag_id === undefined ? [team] : [team, opts.dag_id];
  const page = pageClause(opts, BACKFILL_SORTABLE, "id", "id");
  const rows = db.query(`SELECT ${BACKFILL_COLUMNS} FROM backfills${where}${page.sql}`).all(...params, ...page.params) as BackfillRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM backfills${where}`).get(...params) as { n: number };
  return { items: rows.map(toBackfill), total: n };
}

export function setBackfillPaused(db: Database, team: string, id: number, paused: boolean, now: Date): BackfillRecord | null {
  db.query("UPDATE backfills SET is_paused = ?, updated_at = ? WHERE team = ? AND id = ?").run(paused ? 1 : 0, now.getTime(), team, id);
  return getBackfill(db, team, id);
}

export function cancelBackfill(db: Database, team: string, id: number, now: Date): BackfillRecord | null {
  const t = now.getTime();
  return db
    .transaction(() => {
      const res = db
        .query("UPDATE backfills SET is_paused = 1, completed_at = ?, updated_at = ? WHERE team = ? AND id = ?")
        .run(t, t, team, id);
      if (res.changes === 0) return null;
      db.query(`UPDATE dag_runs SET state = 'failed', end_date = ?, note = ? WHERE backfill_id = ? AND state = 'queued'`).run(
        t,
        `backfill ${id} cancelled`,
        id,
      );
      return getBackfill(db, team, id);
    })
    .immediate();
}

export function completeFinishedBackfills(db: Database, now: Date): number[] {
  const rows = db
    .query(
      `UPDATE backfills SET completed_at = ?1, updated_at = ?1
       WHERE completed_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM dag_runs r WHERE r.backfill_id = backfills.id AND r.state IN ('queued', 'running'))
       RETURNING id`,
    )
    .all(now.getTime()) as { id: number }[];
  return rows.map((r) => r.id).sort((a, b) => a - b);
}
