/**
 * The tick's snapshot reads on Postgres: runs with all their task instances. Two forms, each where it is
 * cheaper: a woken tick's few runs come back inside loadTickReads as JSON (each run one row of the run as
 * `row_to_json` and its task instances as one JSON array of arrays, SNAPSHOT_TI_COLUMNS with timestamps as
 * epoch ms via date_part, a double exact once rounded), which JSON.parse decodes natively; a sweep's thousands
 * of runs come back as rows (loadRunSnapshots, below), which the server builds for less. One statement is one
 * snapshot either way: every run's task instances are consistent with it, and no BEGIN/COMMIT.
 */
import type { DagRunRecord, RunSnapshot } from "../../domain";
import { SNAPSHOT_TI_COLUMNS, SNAPSHOT_TI_TIMES, snapshotTaskInstance, type SnapshotTiValues } from "../snapshot-columns";
import { arrayParam, queryValues, type Db } from "./client";
import { DAG_RUN_COLUMNS, nullsAs, runFromJson } from "./rows";

const TI_JSON_COLUMNS = SNAPSHOT_TI_COLUMNS.split(", ")
  .map((c) => (SNAPSHOT_TI_TIMES.has(c) ? `round(date_part('epoch', ${c}) * 1000)` : c))
  .join(", ");

/** A run's task instances as one JSON array of SNAPSHOT_TI_COLUMNS arrays (null: none); `r` is its dag_runs row. */
export const SNAPSHOT_TIS_JSON = `(SELECT json_agg(json_build_array(${TI_JSON_COLUMNS})) FROM task_instances WHERE dag_run_id = r.id)`;

/** The dag_runs rows of the ids in `ids` (a bigint[] expression), as `r`. */
export const snapshotRunsFrom = (ids: string) => `(SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE id = ANY(${ids})) r`;

/** One run's snapshot from its parsed run object and task instance arrays. */
export function snapshotFromJson(run: DagRunRecord, tis: SnapshotTiValues[] | null): RunSnapshot {
  return { run, tis: tis === null ? [] : tis.map((v) => snapshotTaskInstance(v, run)).sort((a, b) => a.id - b.id) };
}

/**
 * The runs and all their task instances in one statement (one snapshot, so every run's task instances are
 * consistent with it; no BEGIN/COMMIT). A UNION ALL of task rows (the run column NULL) and run rows (the task
 * columns NULL, the run as one JSON text), read as arrays. For the sweep's large reads this row form beats the
 * per-run JSON above (SNAPSHOT_TIS_JSON, used by loadTickReads for a woken tick's few runs): with the JSON the
 * client decoded 0.6x as much but the server built twice as much, and on 2 cores the read of 10,000 runs took
 * 808-875 ms against 544-603 (alternating, idle). No ORDER BY on the task instances: sorting 100,000 rows
 * spills to disk at the default work_mem, while each run's ten-odd rows sort in JS for nothing. The ids go as a
 * bigint[] parameter: a `$1::text::bigint[]` filter is parsed again for every row a scan meets. Timestamps come
 * as epoch ms, as in the JSON form (TI_JSON_COLUMNS): a double the driver parses with `+`, where a timestamptz
 * was a Date parsed from text and turned back into ms for the shared decoder (reading 10,000 runs: 0.95×).
 */
const SNAPSHOTS_SQL = `
SELECT ${TI_JSON_COLUMNS}, NULL AS run FROM task_instances WHERE dag_run_id = ANY($1::bigint[])
UNION ALL
SELECT ${nullsAs(SNAPSHOT_TI_COLUMNS)}, row_to_json(r)::text
FROM (SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE id = ANY($1::bigint[])) r`;
/** Where a snapshot row holds its run's JSON (null on task rows), after the task columns. */
const RUN_JSON = SNAPSHOT_TI_COLUMNS.split(", ").length;

/** The snapshots of `runIds` (ids not found are omitted), in run id order, task instances in id order. */
export async function loadRunSnapshots(db: Db, runIds: number[]): Promise<RunSnapshot[]> {
  if (runIds.length === 0) return [];
  const rows = await queryValues<unknown[]>(db, SNAPSHOTS_SQL, [arrayParam(runIds)]);
  const byRun = new Map<number, RunSnapshot>();
  for (const row of rows) {
    const json = row[RUN_JSON] as string | null;
    if (json === null) continue;
    const run = runFromJson(json);
    byRun.set(run.id, { run, tis: [] });
  }
  for (const row of rows) {
    const snap = row[RUN_JSON] === null ? byRun.get(row[1] as number) : undefined;
    snap?.tis.push(snapshotTaskInstance(row as SnapshotTiValues, snap.run));
  }
  const snapshots = [...byRun.values()].sort((a, b) => a.run.id - b.run.id);
  for (const s of snapshots) s.tis.sort((a, b) => a.id - b.id);
  return snapshots;
}
