/** DAG runs: creation with their task instances, lookups, the tick's snapshot read, run state changes. */
import type { Database } from "bun:sqlite";
import { stamped } from "./partial-index-terms";
import { SQLiteError } from "bun:sqlite";
import {
  ConflictError,
  NotFoundError,
  assertStorableJson,
  assertStorableText,
  isTerminalDagRunState,
  type DagRunState,
  type DagRunRecord,
  type NewDagRun,
  type RunSnapshot,
} from "../../domain";
import type { ChangeCursor, KnownTaskInstance, RunChanges } from "../ports/scheduler";
import {
  DAG_RUN_COLUMNS,
  SNAPSHOT_TI_COLUMNS,
  TI_COLUMNS,
  ms,
  snapshotTaskInstance,
  toDagRun,
  toTaskInstance,
  type DagRunRow,
  type SnapshotTiValues,
  type TaskInstanceRow,
} from "./rows";

export function createDagRun(db: Database, input: NewDagRun): DagRunRecord {
  // What Postgres could not store is refused here too (json-safety.ts), so both stores answer alike.
  assertStorableJson(input.conf ?? {}, "conf");
  assertStorableText(input.note, "note");
  const queuedAt = input.queued_at.getTime();
  try {
    const id = db
      .transaction(() => {
        const { id } = db
          .query(
            `INSERT INTO dag_runs (team, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, conf, version_id, queued_at, note, triggering_user_name, run_after)
           VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
          )
          .get(
            input.team,
            input.dag_id,
            input.run_id,
            input.run_type,
            ms(input.logical_date),
            ms(input.data_interval_start),
            ms(input.data_interval_end),
            JSON.stringify(input.conf ?? {}),
            input.version_id,
            queuedAt,
            input.note ?? null,
            input.triggering_user_name ?? null,
            ms(input.run_after ?? null),
          ) as { id: number };
        const insertTi = db.query(
          `INSERT INTO task_instances (dag_run_id, team, dag_id, run_id, task_id, state, try_number, max_tries, operator, pool, pool_slots, priority_weight, updated_at)
         VALUES (?, ?, ?, ?, ?, 'none', 1, ?, ?, ?, ?, ?, ?)`,
        );
        for (const t of input.tasks)
          insertTi.run(
            id,
            input.team,
            input.dag_id,
            input.run_id,
            t.task_id,
            t.max_tries,
            t.operator,
            t.pool,
            t.pool_slots,
            t.priority_weight,
            queuedAt,
          );
        return id;
      })
      .immediate();
    return getDagRunById(db, id)!;
  } catch (err) {
    if (err instanceof SQLiteError && err.code === "SQLITE_CONSTRAINT_UNIQUE" && err.message.includes("dag_runs."))
      throw new ConflictError(`dag run ${input.run_id} already exists for DAG ${input.dag_id}`);
    if (err instanceof SQLiteError && err.code === "SQLITE_CONSTRAINT_FOREIGNKEY")
      throw new NotFoundError(
        `cannot create run ${input.run_id}: DAG ${input.dag_id} of team ${input.team} or its version ${input.version_id} is not in the store; record the DAG (upsertDag) first`,
      );
    throw err;
  }
}

export function getDagRun(db: Database, team: string, dagId: string, runId: string): DagRunRecord | null {
  const row = db
    .query(`SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE team = ? AND dag_id = ? AND run_id = ?`)
    .get(team, dagId, runId) as DagRunRow | null;
  return row ? toDagRun(row) : null;
}

export function getDagRunById(db: Database, id: number): DagRunRecord | null {
  const row = db.query(`SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE id = ?`).get(id) as DagRunRow | null;
  return row ? toDagRun(row) : null;
}

export function listActiveRunIds(db: Database): number[] {
  return (db.query("SELECT id FROM dag_runs WHERE state IN ('queued', 'running') ORDER BY id").values() as [number][]).map((r) => r[0]);
}

/**
 * The cursor is "<change counter>:<highest task instance id>", as loadRunChanges' (migration 0018): every write of a
 * task instance's state stamps it with the counter, which moves in the same transaction. Changed are the queued or
 * running runs with a row stamped after the cursor, one probe each of the (dag_run_id, change_seq) index (~2.5 ms
 * at 10,000 active runs), and the runs of rows inserted after it, by id. This took over from an index on
 * updated_at, which every transition kept for this read alone (migration 0022).
 */
export function listRunIdsChangedAfter(db: Database, cursor: string | null): { runIds: number[]; cursor: string } {
  return db
    .transaction(() => {
      const [[seq, lastId] = [0, 0]] = db.query(CHANGE_CURSOR_SQL).values() as [number, number][];
      const next = `${seq}:${lastId}`;
      if (cursor === null) return { runIds: [], cursor: next };
      const [fromSeq, fromId] = cursor.split(":").map(Number) as [number, number];
      const ids = new Set<number>();
      // The counter is the newest stamp given and the sequence the newest id: where one has not moved since the
      // cursor, its read finds nothing (a quiet server's sweep skips the 10,000 probes).
      if (seq !== fromSeq) for (const [id] of db.query(STAMPED_ACTIVE_RUNS_SQL).values(fromSeq) as [number][]) ids.add(id);
      // Not DISTINCT: SQLite then walks the whole (dag_run_id, change_seq) index for its order instead of the ids.
      if (lastId !== fromId)
        for (const [id] of db.query("SELECT dag_run_id FROM task_instances WHERE id > ?").values(fromId) as [number][]) ids.add(id);
      return { runIds: [...ids].sort((a, b) => a - b), cursor: next };
    })
    .deferred();
}

const STAMPED_ACTIVE_RUNS_SQL = `SELECT r.id FROM dag_runs r WHERE r.state IN ('queued', 'running')
  AND EXISTS (SELECT 1 FROM task_instances t WHERE t.dag_run_id = r.id AND ${stamped("t.")} AND t.change_seq > ?)`;

/** The change counter and the highest task instance id ever given, as one change cursor's parts. */
const CHANGE_CURSOR_SQL =
  "SELECT (SELECT seq FROM task_instance_change_counter WHERE id = 1), " +
  "(SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'task_instances')";

/**
 * Two reads in one transaction, so every snapshot's TIs are consistent with its run. A sweep reads 100,000
 * task instances, and SQLite's cost is per value handed to JS: the tasks come as arrays (values()), without
 * team, dag_id and run_id (their run's), and unsorted (each run's ten-odd sort in JS, not 10,000 in a temp b-tree).
 */
export function loadRunSnapshots(db: Database, runIds: number[]): RunSnapshot[] {
  if (runIds.length === 0) return [];
  const ids = JSON.stringify(runIds);
  return db
    .transaction(() => {
      const runs = db
        .query(`SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`)
        .all(ids) as DagRunRow[];
      const tis = db
        .query(`SELECT ${SNAPSHOT_TI_COLUMNS} FROM task_instances WHERE dag_run_id IN (SELECT value FROM json_each(?))`)
        .values(ids) as SnapshotTiValues[];
      const byRun = new Map<number, RunSnapshot>();
      for (const r of runs) byRun.set(r.id, { run: toDagRun(r), tis: [] });
      for (const ti of tis) {
        const snap = byRun.get(ti[1]);
        snap?.tis.push(snapshotTaskInstance(ti, snap.run));
      }
      const snapshots = [...byRun.values()];
      for (const s of snapshots) s.tis.sort((a, b) => a.id - b.id);
      return snapshots;
    })
    .deferred();
}

/**
 * The runs and those of their task instances that differ from `known` (loadRunChanges). SQLite reads the
 * rows in-process, so the comparison is done in JS (a SQL join against a JSON list of known versions cost
 * more than the read): first each task instance's version columns only, then the full rows of the changed
 * ones, in one transaction. A 1,000-task run woken 30 times a second thus decodes four columns per task,
 * not twenty-four, as arrays (values()): no object per row.
 * A run with a cursor (`since`) is not compared: its rows stamped after it are read through the
 * (dag_run_id, change_seq) index, and rows with an id above the highest one it saw (inserted since) by id
 * (migration 0018). The cursor returned is "<change counter>:<highest task instance id>" as this read sees them.
 */
export function loadRunChanges(
  db: Database,
  runIds: number[],
  known: ReadonlyMap<number, KnownTaskInstance>,
  since?: ReadonlyMap<number, ChangeCursor>,
): RunChanges[] {
  if (runIds.length === 0) return [];
  const ids = JSON.stringify(runIds);
  return db
    .transaction(() => {
      const runs = db
        .query(`SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`)
        .all(ids) as DagRunRow[];
      const [[seq, lastId] = [0, 0]] = db.query(CHANGE_CURSOR_SQL).values() as [number, number][];
      const cursor = `${seq}:${lastId}`;
      const byRun = new Map<number, RunChanges>();
      for (const r of runs) byRun.set(r.id, { run: toDagRun(r), tis: [], cursor });
      const compared = since?.size ? runs.filter((r) => !since.has(r.id)).map((r) => r.id) : runIds;
      for (const ti of changedRows(db, compared, known)) byRun.get(ti.dag_run_id)?.tis.push(toTaskInstance(ti));
      if (since?.size)
        for (const r of runs) {
          const from = since.get(r.id);
          if (from !== undefined) byRun.get(r.id)!.tis.push(...rowsSince(db, r.id, from).map(toTaskInstance));
        }
      return [...byRun.values()];
    })
    .deferred();
}

/** A run's task instances stamped after `cursor` or inserted after it (an id above its highest), by id. */
function rowsSince(db: Database, runId: number, cursor: ChangeCursor): TaskInstanceRow[] {
  const [seq, lastId] = cursor.split(":").map(Number) as [number, number];
  const since = db
    .query(`SELECT ${TI_COLUMNS} FROM task_instances WHERE dag_run_id = ? AND ${stamped()} AND change_seq > ?`)
    .all(runId, seq) as TaskInstanceRow[];
  // `+dag_run_id`: read the ids above lastId (few: those inserted since), not every task instance of the run.
  const inserted = db
    .query(`SELECT ${TI_COLUMNS} FROM task_instances WHERE id > ? AND +dag_run_id = ?`)
    .all(lastId, runId) as TaskInstanceRow[];
  if (!inserted.length) return since.sort((a, b) => a.id - b.id);
  const byId = new Map([...since, ...inserted].map((r) => [r.id, r]));
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** The task instances of `runIds` that differ from `known` (or are missing from it), in full, by run and id. */
function changedRows(db: Database, runIds: readonly number[], known: ReadonlyMap<number, KnownTaskInstance>): TaskInstanceRow[] {
  if (!runIds.length) return [];
  const versions = db
    .query("SELECT id, state, try_number, updated_at FROM task_instances WHERE dag_run_id IN (SELECT value FROM json_each(?))")
    .values(JSON.stringify(runIds)) as [id: number, state: string, try_number: number, updated_at: number][];
  const changed: number[] = [];
  for (const [id, state, tryNumber, updatedAt] of versions) {
    const k = known.get(id);
    if (!k || k.state !== state || k.try_number !== tryNumber || k.updated_at.getTime() !== updatedAt) changed.push(id);
  }
  if (!changed.length) return [];
  return db
    .query(`SELECT ${TI_COLUMNS} FROM task_instances WHERE id IN (SELECT value FROM json_each(?)) ORDER BY dag_run_id, id`)
    .all(JSON.stringify(changed)) as TaskInstanceRow[];
}

export function setDagRunState(db: Database, id: number, from: DagRunState[], to: DagRunState, now: Date, note?: string): boolean {
  if (from.length === 0) return false;
  const { sets, params } = runStateSets(to, now, note);
  const marks = from.map(() => "?").join(", ");
  const res = db.query(`UPDATE dag_runs SET ${sets} WHERE id = ? AND state IN (${marks})`).run(...params, id, ...from);
  return res.changes > 0;
}

/**
 * The SET clause of a run state change and its parameters: running keeps a start_date already set and clears
 * end_date, queued clears end_date, a terminal state sets it (and start_date, if the run ended in its first plan:
 * the scheduler starts every run it ends, as Airflow's does); a note is written only when given.
 */
export function runStateSets(to: DagRunState, now: Date, note?: string): { sets: string; params: (string | number)[] } {
  const t = now.getTime();
  const sets = ["state = ?"];
  const params: (string | number)[] = [to];
  if (to === "running") {
    sets.push("start_date = COALESCE(start_date, ?)", "end_date = NULL");
    params.push(t);
  } else if (to === "queued") sets.push("end_date = NULL");
  else if (isTerminalDagRunState(to)) {
    // A run the scheduler ends has started: one whose tasks all ended in its first plan goes queued → success.
    sets.push("start_date = COALESCE(start_date, ?)", "end_date = ?");
    params.push(t, t);
  }
  if (note !== undefined) {
    sets.push("note = ?");
    params.push(note);
  }
  return { sets: sets.join(", "), params };
}
