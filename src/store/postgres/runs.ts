/** DAG runs: creation with their task instances, lookups, the tick's change read, run state changes (the snapshot read: snapshots.ts). */
import {
  ConflictError,
  NotFoundError,
  assertStorableJson,
  assertStorableText,
  isTerminalDagRunState,
  TASK_STATES,
  type DagRunState,
  type DagRunRecord,
  type NewDagRun,
} from "../../domain";
import type { ChangeCursor, KnownTaskInstance, RunChanges } from "../ports/scheduler";
import {
  arrayParam,
  execute,
  jsonText,
  numbersOfArrayText,
  Params,
  pgConstraint,
  pgErrorCode,
  PG_FOREIGN_KEY_VIOLATION,
  PG_UNIQUE_VIOLATION,
  query,
  type Db,
} from "./client";
import { DAG_RUN_COLUMNS, nullsAs, TI_COLUMNS, toDagRun, toTaskInstance, type DagRunRow, type TaskInstanceRow } from "./rows";

/**
 * One statement: the run, then all its task instances from parallel arrays (one row per task), so the
 * run and its TIs commit together and cost one round trip whatever the DAG's size.
 */
const CREATE_RUN_SQL = `
WITH run AS (
  INSERT INTO dag_runs (team, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, conf, version_id, queued_at, note, triggering_user_name, run_after)
  VALUES ($17, $1, $2, $3, 'queued', $4, $5, $6, $7::text::jsonb, $8, $9, $10, $18, $19)
  RETURNING ${DAG_RUN_COLUMNS}
), tis AS (
  INSERT INTO task_instances (dag_run_id, team, dag_id, run_id, task_id, state, try_number, max_tries, operator, pool, pool_slots, priority_weight, updated_at)
  SELECT run.id, run.team, run.dag_id, run.run_id, t.task_id, 'none', 1, t.max_tries, t.operator, t.pool, t.pool_slots, t.priority_weight, run.queued_at
  FROM run, unnest($11::text[], $12::int[], $13::text[], $14::text[], $15::int[], $16::int[]) WITH ORDINALITY
    AS t(task_id, max_tries, operator, pool, pool_slots, priority_weight, ord)
  ORDER BY t.ord
)
SELECT * FROM run`;

export async function createDagRun(db: Db, input: NewDagRun): Promise<DagRunRecord> {
  // jsonb refuses \u0000 and lone surrogates: a 400 naming the field (json-safety.ts), as on SQLite.
  assertStorableJson(input.conf ?? {}, "conf");
  assertStorableText(input.note, "note");
  const col = <K extends keyof NewDagRun["tasks"][number]>(k: K) => arrayParam(input.tasks.map((t) => t[k]));
  try {
    const [row] = await query<DagRunRow>(db, CREATE_RUN_SQL, [
      input.dag_id,
      input.run_id,
      input.run_type,
      input.logical_date,
      input.data_interval_start,
      input.data_interval_end,
      jsonText(input.conf ?? {}),
      input.version_id,
      input.queued_at,
      input.note ?? null,
      col("task_id"),
      col("max_tries"),
      col("operator"),
      col("pool"),
      col("pool_slots"),
      col("priority_weight"),
      input.team,
      input.triggering_user_name ?? null,
      input.run_after ?? null,
    ]);
    return toDagRun(row!);
  } catch (err) {
    const code = pgErrorCode(err);
    if (code === PG_UNIQUE_VIOLATION && pgConstraint(err) === "dag_runs_team_dag_id_run_id_key")
      throw new ConflictError(`dag run ${input.run_id} already exists for DAG ${input.dag_id}`);
    if (code === PG_FOREIGN_KEY_VIOLATION)
      throw new NotFoundError(
        `cannot create run ${input.run_id}: DAG ${input.dag_id} of team ${input.team} or its version ${input.version_id} is not in the store; record the DAG (upsertDag) first`,
      );
    throw err;
  }
}

export async function getDagRun(db: Db, team: string, dagId: string, runId: string): Promise<DagRunRecord | null> {
  const [row] = await query<DagRunRow>(db, `SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE team = $1 AND dag_id = $2 AND run_id = $3`, [
    team,
    dagId,
    runId,
  ]);
  return row ? toDagRun(row) : null;
}

export async function getDagRunById(db: Db, id: number): Promise<DagRunRecord | null> {
  const [row] = await query<DagRunRow>(db, `SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE id = $1`, [id]);
  return row ? toDagRun(row) : null;
}

/**
 * The active runs' ids, read through dag_runs_state (its 'queued' and 'running' entries; migration 0026 dropped the
 * partial index this once had to itself). The ids come back as one array text rather than one row each: the driver's
 * per-field cost dominates at 10,000 runs. Exported for the query-plan test.
 */
export const ACTIVE_RUN_IDS_SQL = "SELECT array_agg(id ORDER BY id)::text AS ids FROM dag_runs WHERE state IN ('queued', 'running')";

export async function listActiveRunIds(db: Db): Promise<number[]> {
  const [row] = await query<{ ids: string | null }>(db, ACTIVE_RUN_IDS_SQL);
  return numbersOfArrayText(row?.ids);
}

/**
 * The task_instances rows (`columns`, narrowed by `where`) stamped (change_xid, migrations 0018 and 0022) by a
 * transaction `snapshot` (a pg_snapshot expression, a cursor) did not see: those from its xmax on, and those of the
 * few transactions it lists as in progress (its xip), a range and a probe each (a LATERAL with OFFSET 0: without
 * statistics the planner hash-joined the whole table for the list otherwise). A range from its xmin would be the
 * same answer, but a transaction with an id left open for long (a long batch write, a session idle in a
 * transaction after a write) holds every later snapshot's xmin back, and each read would meet every row stamped
 * since it began. The range's upper bound (this statement's xmax: nothing stamped at or above it is visible here)
 * changes nothing but the estimate: an xid8 range has no statistics, and one-sided the planner guesses a third of
 * the table and scans it all, two-sided 0.5% and reads the index.
 */
const stampedUnseenBy = (snapshot: string, columns: string, where = "true") => `
    SELECT ${columns} FROM task_instances
      WHERE ${where} AND change_xid >= pg_snapshot_xmax(${snapshot}) AND change_xid < pg_snapshot_xmax(pg_current_snapshot())
    UNION ALL
    SELECT s.* FROM pg_snapshot_xip(${snapshot}) AS x(xid),
      LATERAL (SELECT ${columns} FROM task_instances WHERE ${where} AND change_xid = x.xid OFFSET 0) s`;

/**
 * The runs with a task instance stamped by a transaction the cursor's snapshot did not see (stampedUnseenBy),
 * through the index on change_xid, and this statement's snapshot: the next cursor, so a write committed while the
 * sweep reads is found by the next one, and none is found twice. Exact whatever the replicas' clocks say. Ids as
 * one array text, like listActiveRunIds.
 */
export const CHANGED_RUNS_SQL = `
SELECT pg_current_snapshot()::text AS cursor,
  (SELECT array_agg(DISTINCT dag_run_id ORDER BY dag_run_id)::text
   FROM (${stampedUnseenBy("$1::text::pg_snapshot", "dag_run_id")}) changed) AS ids`;

/** Without a cursor (a full sweep): none, only the snapshot the next call starts from. */
const CURSOR_SQL = "SELECT pg_current_snapshot()::text AS cursor";

export async function listRunIdsChangedAfter(db: Db, cursor: string | null): Promise<{ runIds: number[]; cursor: string }> {
  if (cursor === null) {
    const [row] = await query<{ cursor: string }>(db, CURSOR_SQL);
    return { runIds: [], cursor: row!.cursor };
  }
  const [row] = await query<{ cursor: string; ids: string | null }>(db, CHANGED_RUNS_SQL, [cursor]);
  return { runIds: numbersOfArrayText(row!.ids), cursor: row!.cursor };
}

/** Run columns prefixed r_, for statements returning runs and task instances as rows of one shape. */
const RUN_COLUMN_LIST = DAG_RUN_COLUMNS.split(", ");
const RUN_AS_R = RUN_COLUMN_LIST.map((c) => `r.${c} AS r_${c}`).join(", ");
const runOfChangeRow = (row: Record<string, unknown>): DagRunRow =>
  Object.fromEntries(RUN_COLUMN_LIST.map((c) => [c, row[`r_${c}`]])) as unknown as DagRunRow;
/** A task instance row's run columns: its run's id, the rest null (decoded for nothing, unlike repeated values). */
const RUN_ID_ONLY = RUN_COLUMN_LIST.map((c) => (c === "id" ? "ti.dag_run_id AS r_id" : `NULL AS r_${c}`)).join(", ");
const TI_OF_TI = TI_COLUMNS.split(", ")
  .map((c) => `ti.${c}`)
  .join(", ");

/**
 * Rows of a changes statement: a row per run (its columns prefixed r_, the statement's snapshot as its cursor, the
 * task columns null), then a row per changed task instance (its columns, and of the run only r_id). The run's
 * columns come once: repeated on each of a fan-out's thousands of changed rows (a run's dates and conf among them)
 * they were about half of what the server decoded per row. Run rows sort first (their task id is null).
 */
const changesRows = (runs: string, changed: string) => `
SELECT ${RUN_AS_R}, pg_current_snapshot()::text AS change_cursor, ${nullsAs(TI_COLUMNS)} ${runs}
UNION ALL
SELECT ${RUN_ID_ONLY}, NULL, ${TI_OF_TI} ${changed}
ORDER BY r_id, id NULLS FIRST`;

/**
 * The runs and those of their task instances that differ from `known` (loadRunChanges), in one statement: one
 * snapshot and one round trip (changesRows). The comparison happens in Postgres, so only changed rows cross the
 * wire. Each known version (state, try_number, updated_at) goes in as one number (versionOf), and both arrays as
 * one array literal each: a 1,000-task run is refreshed many times a second, and encoding four arrays of 1,000
 * values element by element in the driver cost more than the query. The row's updated_at in ms comes from
 * date_part (a double: exact once rounded, every stamp is a JS Date's whole ms), not extract (numeric arithmetic
 * on every row: a fifth of the query's time on a 5,000-task run). The run row carries the statement's snapshot:
 * the cursor the run's next read starts from (CHANGES_SINCE_SQL).
 */
const CHANGES_SQL = changesRows(
  "FROM dag_runs r WHERE r.id = ANY($1::bigint[])",
  `FROM dag_runs r JOIN task_instances ti ON ti.dag_run_id = r.id
  LEFT JOIN unnest($2::text::bigint[], $3::text::bigint[]) AS k(known_id, known_version) ON k.known_id = ti.id
  WHERE r.id = ANY($1::bigint[])
    AND (k.known_id IS NULL OR k.known_version IS DISTINCT FROM
      round(date_part('epoch', ti.updated_at) * 1000)::bigint * 1024 + (array_position($4::text[], ti.state) % 32) * 32 + ti.try_number % 32)`,
);

/**
 * The runs that have a cursor (the snapshot of their previous read, as text): their task instances stamped by a
 * transaction that snapshot did not see (stampedUnseenBy), through the (dag_run_id, change_xid) index. The cursor
 * returned is this statement's snapshot. The run id is c's: every condition on the index then comes from c, so the
 * planner can use both columns (with the run's id it scanned a run's every task instance and filtered them at the
 * join: a 10,000-task run's read took 5–6 ms instead of ~0.2).
 */
export const CHANGES_SINCE_SQL = changesRows(
  "FROM unnest($1::bigint[]) AS c(run_id) JOIN dag_runs r ON r.id = c.run_id",
  `FROM unnest($1::bigint[], $2::text[]) AS c(run_id, since)
  JOIN dag_runs r ON r.id = c.run_id
  JOIN LATERAL (${stampedUnseenBy("c.since::pg_snapshot", "*", "dag_run_id = c.run_id")}) ti ON true`,
);

/** updated_at (ms) × 1024 + the state's position in TASK_STATES (1-based, mod 32) × 32 + try_number mod 32; exact below 2^53. */
const versionOf = (k: KnownTaskInstance): number =>
  k.updated_at.getTime() * 1024 + ((TASK_STATES.indexOf(k.state) + 1) % 32) * 32 + (k.try_number % 32);

export async function loadRunChanges(
  db: Db,
  runIds: number[],
  known: ReadonlyMap<number, KnownTaskInstance>,
  since?: ReadonlyMap<number, ChangeCursor>,
): Promise<RunChanges[]> {
  if (runIds.length === 0) return [];
  const stamped = since?.size ? runIds.filter((id) => since.has(id)) : [];
  const compared = stamped.length ? runIds.filter((id) => !since!.has(id)) : runIds;
  const [byComparing, byCursor] = await Promise.all([
    compared.length ? compareRunChanges(db, compared, known) : [],
    stamped.length
      ? query<TaskInstanceRow & Record<string, unknown>>(db, CHANGES_SINCE_SQL, [arrayParam(stamped), stamped.map((id) => since!.get(id)!)])
      : [],
  ]);
  return changesByRun([...byComparing, ...byCursor]).sort((a, b) => a.run.id - b.run.id);
}

/** The runs of `runIds` compared with `known` (CHANGES_SQL). */
function compareRunChanges(db: Db, runIds: number[], known: ReadonlyMap<number, KnownTaskInstance>) {
  const ids: number[] = [];
  const versions: number[] = [];
  for (const k of known.values()) ids.push(k.id), versions.push(versionOf(k));
  return query<TaskInstanceRow & Record<string, unknown>>(db, CHANGES_SQL, [
    arrayParam(runIds),
    `{${ids.join(",")}}`,
    `{${versions.join(",")}}`,
    [...TASK_STATES],
  ]);
}

/** Rows of CHANGES_SQL or CHANGES_SINCE_SQL (a run's columns prefixed r_, its changed task instance's, if any) by run. */
function changesByRun(rows: readonly (TaskInstanceRow & Record<string, unknown>)[]): RunChanges[] {
  const byRun = new Map<number, RunChanges>();
  for (const row of rows) {
    const runId = row.r_id as number;
    if (row.id === null) byRun.set(runId, { run: toDagRun(runOfChangeRow(row)), tis: [], cursor: row.change_cursor as string });
    else byRun.get(runId)?.tis.push(toTaskInstance(row));
  }
  return [...byRun.values()];
}

export async function setDagRunState(db: Db, id: number, from: DagRunState[], to: DagRunState, now: Date, note?: string): Promise<boolean> {
  if (from.length === 0) return false;
  const p = new Params();
  const sets = [`state = ${p.add(to)}`];
  if (to === "running") sets.push(`start_date = COALESCE(start_date, ${p.add(now)})`, "end_date = NULL");
  else if (to === "queued") sets.push("end_date = NULL");
  else if (isTerminalDagRunState(to)) {
    // A run the scheduler ends has started: one whose tasks all ended in its first plan goes queued → success.
    const at = p.add(now);
    sets.push(`start_date = COALESCE(start_date, ${at})`, `end_date = ${at}`);
  }
  if (note !== undefined) sets.push(`note = ${p.add(note)}`);
  const changed = await execute(
    db,
    `UPDATE dag_runs SET ${sets.join(", ")} WHERE id = ${p.add(id)} AND state = ANY(${p.add(arrayParam(from))}::text[])`,
    p.values,
  );
  return changed > 0;
}
