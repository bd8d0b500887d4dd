/** Scheduling on Postgres: the cron scheduler's DAG read, run-start limits, and backfills. */
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
import { arrayParam, execute, jsonText, numbersOfArrayText, Params, query, type Db, type Pool } from "./client";
import { pgPageClause } from "./list-query";
import { DAG_COLUMNS, DAG_FROM, toDag, type DagRow } from "./rows";
import { createDagRun } from "./runs";

/** JSON null and a missing key both mean "no schedule" (SQLite's json_extract gives NULL for both). */
const HAS_SCHEDULE = "COALESCE(jsonb_typeof(v.spec -> 'schedule'), 'null') <> 'null'";

/**
 * Whether a DAG version has a schedule, by version id, per pool. A version never changes and its id is never
 * reused, and testing the spec on every sweep detoasted every active DAG's whole spec (megabytes for a
 * 10,000-task DAG), scheduled or not. Holds only the versions of the DAGs the last sweep looked at.
 */
const scheduledCache = new WeakMap<object, Map<number, boolean>>();

/**
 * One statement (cron lateness rides on it: no second round trip when a version is new): the active,
 * unpaused DAGs' versions not known yet are tested (`learned`), and always one row comes back carrying them
 * and every candidate version (`current`, to drop versions no longer looked at); the DAG columns and the run
 * counts are read only for DAGs whose version is scheduled (NULL on the lone row when there are none).
 */
const SCHEDULED_DAGS_SQL = `
WITH cand AS MATERIALIZED (
  SELECT team, dag_id, version_id FROM dags WHERE is_active AND NOT is_paused
), learned AS MATERIALIZED (
  SELECT v.id, ${HAS_SCHEDULE} AS scheduled FROM dag_versions v
  WHERE v.id IN (SELECT version_id FROM cand) AND v.id <> ALL($1::bigint[]) AND v.id <> ALL($2::bigint[])
), sched AS (
  SELECT ${DAG_COLUMNS},
    (SELECT max(r.logical_date) FROM dag_runs r WHERE r.team = d.team AND r.dag_id = d.dag_id AND r.run_type = 'scheduled') AS latest,
    (SELECT count(*) FROM dag_runs r WHERE r.team = d.team AND r.dag_id = d.dag_id AND r.state IN ('queued', 'running') AND r.backfill_id IS NULL) AS active
  FROM ${DAG_FROM}
  WHERE d.is_active AND NOT d.is_paused
    AND (d.version_id = ANY($1::bigint[]) OR d.version_id IN (SELECT id FROM learned WHERE scheduled))
)
SELECT (SELECT json_agg(json_build_array(id, scheduled)) FROM learned) AS learned,
  (SELECT json_agg(DISTINCT version_id) FROM cand) AS current, s.*
FROM (SELECT 1) AS one LEFT JOIN sched s ON true
ORDER BY s.team, s.dag_id`;

/** A DAG's row, or (team NULL) the lone row of a sweep that found none. */
type ScheduledRow = DagRow & { latest: Date | null; active: number; learned: [number, boolean][] | null; current: number[] | null };

export async function listScheduledDags(db: Db): Promise<ScheduledDag[]> {
  let known = scheduledCache.get(db);
  if (!known) scheduledCache.set(db, (known = new Map()));
  const ids = (want: boolean) => [...known].flatMap(([id, scheduled]) => (scheduled === want ? [id] : []));
  const rows = await query<ScheduledRow>(db, SCHEDULED_DAGS_SQL, [ids(true), ids(false)]);
  const { learned, current } = rows[0]!;
  for (const [id, scheduled] of learned ?? []) known.set(id, scheduled);
  const looked = new Set(current);
  for (const id of known.keys()) if (!looked.has(id)) known.delete(id);
  return rows.flatMap(({ learned: _l, current: _c, latest, active, ...dag }) =>
    dag.team === null ? [] : [{ dag: toDag(dag), latest_scheduled_logical_date: latest, active_runs: active }],
  );
}

/**
 * One statement (one snapshot, no BEGIN/COMMIT: it pipelines behind other queries instead of waiting for a
 * connection of its own): the active runs with their DAG's gate (by (team, dag_id): the same dag_id may belong
 * to two teams) and their backfill's, each counted once in a MATERIALIZED CTE however many runs share it. A row
 * per DAG, state, backfill and run_after (set only on a queued run triggered with one), its runs' ids as one array text: a first sweep gates 10,000 runs of a few DAGs,
 * and a row per run with its DAG's gate repeated on each was 10,000 rows for this process to decode. The DAGs
 * asked for besides (`teams`, `dagIds`: parallel text arrays) that no run brought come as rows with no ids.
 * Parameters as SQL expressions: the ids, the teams and the DAG ids.
 */
export const runGatesSql = (ids: string, teams: string, dagIds: string): string => `
WITH runs AS MATERIALIZED (
  SELECT id, team, dag_id, state, backfill_id, CASE WHEN state = 'queued' THEN run_after END AS run_after
  FROM dag_runs WHERE id = ANY(${ids}) AND state IN ('queued', 'running')
), gate_dags AS MATERIALIZED (
  SELECT d.team, d.dag_id, d.is_paused, d.version_id,
    (SELECT count(*) FROM dag_runs r
      WHERE r.team = d.team AND r.dag_id = d.dag_id AND r.state = 'running' AND r.backfill_id IS NULL) AS running
  FROM dags d
  WHERE (d.team, d.dag_id) IN (SELECT team, dag_id FROM runs UNION SELECT * FROM unnest(${teams}, ${dagIds}))
), gate_backfills AS MATERIALIZED (
  SELECT b.id, b.is_paused, b.max_active_runs,
    (SELECT count(*) FROM dag_runs r WHERE r.backfill_id = b.id AND r.state = 'running') AS running
  FROM backfills b WHERE b.id IN (SELECT backfill_id FROM runs WHERE backfill_id IS NOT NULL)
)
SELECT array_agg(r.id)::text AS ids, r.team, r.dag_id, r.state, r.backfill_id, r.run_after,
  d.is_paused AS dag_paused, d.version_id AS dag_version_id, d.running AS dag_running,
  b.is_paused AS bf_paused, b.max_active_runs AS bf_max_active_runs, b.running AS bf_running
FROM runs r
LEFT JOIN gate_dags d ON d.team = r.team AND d.dag_id = r.dag_id
LEFT JOIN gate_backfills b ON b.id = r.backfill_id
GROUP BY r.team, r.dag_id, r.state, r.backfill_id, r.run_after, d.is_paused, d.version_id, d.running, b.is_paused, b.max_active_runs, b.running
UNION ALL
SELECT NULL, d.team, d.dag_id, NULL, NULL, NULL, d.is_paused, d.version_id, d.running, NULL, NULL, NULL
FROM gate_dags d WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.team = d.team AND r.dag_id = d.dag_id)`;

const RUN_GATES_SQL = runGatesSql("$1::bigint[]", "$2::text[]", "$3::text[]");

/** A row of runGatesSql: runs of one DAG, state and backfill (`ids`, an array text); a DAG-only one has none. */
export type RunGateRow = Omit<RunGates["runs"][number], "id"> & {
  ids: string | null;
  dag_paused: boolean | null;
  dag_version_id: number | null;
  dag_running: number | null;
  bf_paused: boolean | null;
  bf_max_active_runs: number | null;
  bf_running: number | null;
};

/**
 * max_active_runs by DAG version id, per pool. A version never changes, and reading the field out of the
 * spec on every tick detoasted the whole spec (a megabyte for a 10,000-task DAG) each time; a version not
 * seen yet costs one more read, once.
 */
const maxActiveRunsCache = new WeakMap<object, Map<number, number>>();

async function maxActiveRunsOf(db: Db, versionIds: readonly number[]): Promise<ReadonlyMap<number, number>> {
  let cache = maxActiveRunsCache.get(db);
  if (!cache) maxActiveRunsCache.set(db, (cache = new Map()));
  const missing = [...new Set(versionIds)].filter((id) => !cache.has(id));
  if (missing.length)
    for (const r of await query<{ id: number; max_active_runs: number }>(
      db,
      "SELECT id, COALESCE((spec ->> 'max_active_runs')::int, 16) AS max_active_runs FROM dag_versions WHERE id = ANY($1::bigint[])",
      [missing],
    ))
      cache.set(r.id, r.max_active_runs);
  return cache;
}

export async function loadRunGates(db: Db, runIds: number[], dags: readonly DagRef[] = []): Promise<RunGates> {
  if (runIds.length === 0 && dags.length === 0) return { runs: [], dags: new Map(), backfills: new Map() };
  return foldRunGates(db, await query<RunGateRow>(db, RUN_GATES_SQL, [arrayParam(runIds), ...dagRefParams(dags)]));
}

/** `dags` as the two parallel text arrays runGatesSql takes. */
export const dagRefParams = (dags: readonly DagRef[]): [string[], string[]] => [dags.map((d) => d.team), dags.map((d) => d.dag_id)];

/** RUN_GATES_SQL's rows as RunGates (a DAG version not seen yet costs one read of its max_active_runs). */
export async function foldRunGates(db: Db, rows: readonly RunGateRow[]): Promise<RunGates> {
  const gates: RunGates = { runs: [], dags: new Map(), backfills: new Map() };
  const maxActiveRuns = await maxActiveRunsOf(
    db,
    rows.flatMap((r) => (r.dag_version_id === null ? [] : [r.dag_version_id])),
  );
  for (const row of rows) {
    const { dag_paused, dag_version_id, dag_running, bf_paused, bf_max_active_runs, bf_running, ids, run_after, ...run } = row;
    // A Date from the driver, ISO text from the tick's JSON read (tick-reads.ts).
    const after = run_after == null ? null : new Date(run_after);
    for (const id of numbersOfArrayText(ids)) gates.runs.push({ ...run, run_after: after, id });
    const max = dag_version_id === null ? undefined : maxActiveRuns.get(dag_version_id);
    if (dag_paused !== null && max !== undefined)
      gates.dags.set(teamKey(run.team, run.dag_id), { is_paused: dag_paused, max_active_runs: max, running: dag_running ?? 0 });
    if (run.backfill_id !== null && bf_paused !== null)
      gates.backfills.set(run.backfill_id, { is_paused: bf_paused, max_active_runs: bf_max_active_runs ?? 0, running: bf_running ?? 0 });
  }
  gates.runs.sort((a, b) => a.id - b.id);
  return gates;
}

const BACKFILL_COLUMNS =
  "id, team, dag_id, from_date, to_date, run_backwards, dag_run_conf, is_paused, reprocess_behavior, max_active_runs, created_at, completed_at, updated_at";

type BackfillRow = Omit<BackfillRecord, "reprocess_behavior"> & { reprocess_behavior: string };
const toBackfill = (r: BackfillRow): BackfillRecord => ({ ...r, reprocess_behavior: r.reprocess_behavior as ReprocessBehavior });

/**
 * Store.latestRunStates, and createBackfill's read of the same inside its transaction: one statement for all dates.
 * Latest: started last (a run never started counts as earliest), then the higher id.
 */
export async function latestRunStates(
  db: Db,
  team: string,
  dagId: string,
  logicalDates: readonly Date[],
): Promise<Map<number, DagRunState>> {
  const states = new Map<number, DagRunState>();
  if (logicalDates.length === 0) return states;
  const rows = await query<{ logical_date: Date; state: DagRunState }>(
    db,
    `SELECT DISTINCT ON (logical_date) logical_date, state FROM dag_runs
     WHERE team = $1 AND dag_id = $2 AND logical_date = ANY($3::timestamptz[])
     ORDER BY logical_date, start_date DESC NULLS LAST, id DESC`,
    [team, dagId, arrayParam(logicalDates)],
  );
  for (const r of rows) states.set(r.logical_date.getTime(), r.state);
  return states;
}

export async function createBackfill(sql: Pool, input: NewBackfill) {
  return sql.begin(async (tx) => {
    // Locks the DAG's row: two requests for one DAG queue here, so the "one open backfill" check holds.
    await query(tx, "SELECT 1 FROM dags WHERE team = $1 AND dag_id = $2 FOR UPDATE", [input.team, input.dag_id]);
    const [open] = await query<{ id: number }>(
      tx,
      "SELECT id FROM backfills WHERE team = $1 AND dag_id = $2 AND completed_at IS NULL LIMIT 1",
      [input.team, input.dag_id],
    );
    if (open)
      throw new ConflictError(
        `There is already a running backfill for dag ${input.dag_id} (backfill ${open.id}); wait for it, or cancel it with PUT /api/v2/backfills/${open.id}/cancel`,
      );
    const [{ id }] = (await query<{ id: number }>(
      tx,
      `INSERT INTO backfills (team, dag_id, from_date, to_date, run_backwards, dag_run_conf, is_paused, reprocess_behavior, max_active_runs, created_at, updated_at)
       VALUES ($9, $1, $2, $3, $4, $5::text::jsonb, false, $6, $7, $8, $8) RETURNING id`,
      [
        input.dag_id,
        input.from_date,
        input.to_date,
        input.run_backwards,
        input.dag_run_conf == null ? null : jsonText(input.dag_run_conf),
        input.reprocess_behavior,
        input.max_active_runs,
        input.now,
        input.team,
      ],
    )) as [{ id: number }];
    const created: number[] = [];
    const skipped: { logical_date: Date; reason: string }[] = [];
    const latest = await latestRunStates(
      tx,
      input.team,
      input.dag_id,
      input.runs.map((r) => r.logical_date!),
    );
    for (const run of input.runs) {
      const state = latest.get(run.logical_date!.getTime());
      const reason = backfillSkipReason(input.skip_existing, state);
      if (reason) {
        skipped.push({ logical_date: run.logical_date!, reason });
        continue;
      }
      const [taken] = await query(tx, "SELECT 1 FROM dag_runs WHERE team = $1 AND dag_id = $2 AND run_id = $3", [
        input.team,
        input.dag_id,
        run.run_id,
      ]);
      // The backfill's team, whatever the planned run says: a backfill's runs belong to its DAG's team.
      const record = await createDagRun(tx, { ...run, team: input.team, run_id: taken ? `${run.run_id}_${id}` : run.run_id });
      await execute(tx, "UPDATE dag_runs SET backfill_id = $1 WHERE id = $2", [id, record.id]);
      created.push(record.id);
    }
    return { backfill: (await getBackfill(tx, input.team, id))!, created, skipped };
  }) as Promise<{ backfill: BackfillRecord; created: number[]; skipped: { logical_date: Date; reason: string }[] }>;
}

export async function getBackfill(db: Db, team: string, id: number): Promise<BackfillRecord | null> {
  const [row] = await query<BackfillRow>(db, `SELECT ${BACKFILL_COLUMNS} FROM backfills WHERE team = $1 AND id = $2`, [team, id]);
  return row ? toBackfill(row) : null;
}

export async function listBackfills(db: Db, team: string, opts: ListOptions & { dag_id?: string } = {}): Promise<Page<BackfillRecord>> {
  const p = new Params();
  const where = ` WHERE team = ${p.add(team)}${opts.dag_id === undefined ? "" : ` AND dag_id = ${p.add(opts.dag_id)}`}`;
  const filterParams = [...p.values];
  const page = pgPageClause(opts, BACKFILL_SORTABLE, "id", "id", p);
  const rows = await query<BackfillRow>(db, `SELECT ${BACKFILL_COLUMNS} FROM backfills${where}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM backfills${where}`, filterParams)) as [{ n: number }];
  return { items: rows.map(toBackfill), total: n };
}

export async function setBackfillPaused(db: Db, team: string, id: number, paused: boolean, now: Date): Promise<BackfillRecord | null> {
  await execute(db, "UPDATE backfills SET is_paused = $1, updated_at = $2 WHERE team = $3 AND id = $4", [paused, now, team, id]);
  return getBackfill(db, team, id);
}

export async function cancelBackfill(sql: Pool, team: string, id: number, now: Date): Promise<BackfillRecord | null> {
  return (await sql.begin(async (tx) => {
    const changed = await execute(
      tx,
      "UPDATE backfills SET is_paused = true, completed_at = $1, updated_at = $1 WHERE team = $2 AND id = $3",
      [now, team, id],
    );
    if (changed === 0) return null;
    await execute(tx, "UPDATE dag_runs SET state = 'failed', end_date = $1, note = $2 WHERE backfill_id = $3 AND state = 'queued'", [
      now,
      `backfill ${id} cancelled`,
      id,
    ]);
    return getBackfill(tx, team, id);
  })) as BackfillRecord | null;
}

export async function completeFinishedBackfills(db: Db, now: Date): Promise<number[]> {
  const rows = await query<{ id: number }>(
    db,
    `UPDATE backfills b SET completed_at = $1, updated_at = $1
     WHERE completed_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM dag_runs r WHERE r.backfill_id = b.id AND r.state IN ('queued', 'running'))
     RETURNING id`,
    [now],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}
