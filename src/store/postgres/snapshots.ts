/**
 * The tick's snapshot reads on Postgres: runs with all their task instances, as rows. A task instance is a row of
 * SNAPSHOT_TI_COLUMNS (SNAPSHOT_TI_ROW: timestamps as epoch ms via date_part, a double exact once rounded, which the
 * driver parses with `+`), and each run one JSON text of its dag_runs row. A sweep's thousands of runs come back
 * from loadRunSnapshots below, a woken tick's few from loadTickReads (tick-reads.ts), which puts the same task rows
 * beside its other reads in one statement. One statement is one snapshot either way: every run's task instances are
 * consistent with it, and no BEGIN/COMMIT.
 */
import type { DagRunRecord, RunSnapshot } from "../../domain";
import { SNAPSHOT_TI_COLUMNS, SNAPSHOT_TI_TIMES, snapshotTaskInstance, type SnapshotTiValues } from "../snapshot-columns";
import { arrayParam, queryValues, type Db } from "./client";
import { DAG_RUN_COLUMNS, nullsAs, runFromJson } from "./rows";

/** SNAPSHOT_TI_COLUMNS as a select list, timestamps as epoch ms. */
export const SNAPSHOT_TI_ROW = SNAPSHOT_TI_COLUMNS.split(", ")
  .map((c) => (SNAPSHOT_TI_TIMES.has(c) ? `round(date_part('epoch', ${c}) * 1000)` : c))
  .join(", ");

/** How many columns a task row has: what a statement puts after them starts at this index. */
export const SNAPSHOT_TI_WIDTH = SNAPSHOT_TI_COLUMNS.split(", ").length;

/** NULL for every task column: the task part of a row of a UNION ALL that holds something else. */
export const NO_SNAPSHOT_TI = nullsAs(SNAPSHOT_TI_COLUMNS);

/**
 * The runs and all their task instances in one statement (one snapshot, so every run's task instances are
 * consistent with it; no BEGIN/COMMIT). A UNION ALL of task rows (the run column NULL) and run rows (the task
 * columns NULL, the run as one JSON text), read as arrays. Rows, not JSON: building a run's task instances as
 * JSON (json_agg of json_build_array) costs the server several times what it saves this process in decoding,
 * and on 2 cores the read of 10,000 runs took 808-875 ms against 544-603 (alternating, idle). No ORDER BY on
 * the task instances: sorting 100,000 rows spills to disk at the default work_mem, while each run's ten-odd rows
 * sort in JS for nothing. The ids go as a bigint[] parameter: a `$1::text::bigint[]` filter is parsed again for
 * every row a scan meets. Timestamps come as epoch ms (SNAPSHOT_TI_ROW): a double the driver parses with `+`,
 * where a timestamptz was a Date parsed from text and turned back into ms for the shared decoder (reading
 * 10,000 runs: 0.95×).
 */
const SNAPSHOTS_SQL = `
SELECT ${SNAPSHOT_TI_ROW}, NULL AS run FROM task_instances WHERE dag_run_id = ANY($1::bigint[])
UNION ALL
SELECT ${NO_SNAPSHOT_TI}, row_to_json(r)::text
FROM (SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE id = ANY($1::bigint[])) r`;

/** The snapshots of `runIds` (ids not found are omitted), in run id order, task instances in id order. */
export async function loadRunSnapshots(db: Db, runIds: number[]): Promise<RunSnapshot[]> {
  if (runIds.length === 0) return [];
  const rows = await queryValues<unknown[]>(db, SNAPSHOTS_SQL, [arrayParam(runIds)]);
  const runs: DagRunRecord[] = [];
  for (const row of rows) {
    const json = row[SNAPSHOT_TI_WIDTH] as string | null;
    if (json !== null) runs.push(runFromJson(json));
  }
  return snapshotsOf(runs, rows);
}

/**
 * The snapshots of `runs` from rows whose first SNAPSHOT_TI_WIDTH columns are a task instance (a NULL id: a row
 * that holds something else), in run id order, task instances in id order. Rows of other runs are ignored.
 */
export function snapshotsOf(runs: readonly DagRunRecord[], rows: readonly unknown[][]): RunSnapshot[] {
  const byRun = new Map<number, RunSnapshot>();
  for (const run of runs) byRun.set(run.id, { run, tis: [] });
  for (const row of rows) {
    const snap = row[0] === null ? undefined : byRun.get(row[1] as number);
    snap?.tis.push(snapshotTaskInstance(row as SnapshotTiValues, snap.run));
  }
  const snapshots = [...byRun.values()].sort((a, b) => a.run.id - b.run.id);
  for (const s of snapshots) s.tis.sort((a, b) => a.id - b.id);
  return snapshots;
}
