/**
 * The tick's snapshot read on Postgres: runs with all their task instances (loadRunSnapshots). A first sweep
 * reads 10,000 runs × 10 task instances, and what costs there is the driver's work per field (a UTF-8 decode
 * and a parse for each of 100,000 × 12 non-null values), not the server's. So each run comes back as one row
 * of two texts: the run as `row_to_json`, and its task instances as one JSON array of arrays (SNAPSHOT_TI_COLUMNS,
 * timestamps as epoch milliseconds), which JSON.parse decodes natively: 0.55–0.75× the client CPU of a row
 * per task instance, for about twice the server's (measured, 10,000 runs). One statement is one snapshot: every
 * run's task instances are consistent with it, and no BEGIN/COMMIT (this read is on every hop's path too).
 * The task instances are found per run through the (dag_run_id, …) unique key, a plan that holds even on a
 * fresh table without statistics. Timestamps go through date_part (a double: exact once rounded, as every
 * stamp is a JS Date's whole ms), not extract (numeric arithmetic, slower).
 */
import type { DagRunRecord, RunSnapshot } from "../../domain";
import { SNAPSHOT_TI_COLUMNS, SNAPSHOT_TI_TIMES, snapshotTaskInstance, type SnapshotTiValues } from "../snapshot-columns";
import { arrayParam, queryValues, type Db } from "./client";
import { DAG_RUN_COLUMNS, runFromJson } from "./rows";

const TI_JSON_COLUMNS = SNAPSHOT_TI_COLUMNS.split(", ")
  .map((c) => (SNAPSHOT_TI_TIMES.has(c) ? `round(date_part('epoch', ${c}) * 1000)` : c))
  .join(", ");

/** A run's task instances as one JSON array of SNAPSHOT_TI_COLUMNS arrays (null: none); `r` is its dag_runs row. */
export const SNAPSHOT_TIS_JSON = `(SELECT json_agg(json_build_array(${TI_JSON_COLUMNS})) FROM task_instances WHERE dag_run_id = r.id)`;

/** The dag_runs rows of the ids in `ids` (a bigint[] expression), as `r`. */
export const snapshotRunsFrom = (ids: string) => `(SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE id = ANY(${ids})) r`;

/** The ids go as a typed bigint[]: a `$1::text::bigint[]` would be parsed again for every row a scan meets. */
const SNAPSHOTS_SQL = `
SELECT row_to_json(r)::text, ${SNAPSHOT_TIS_JSON}::text
FROM ${snapshotRunsFrom("$1::bigint[]")}`;

/** One run's snapshot from its parsed run object and task instance arrays. */
export function snapshotFromJson(run: DagRunRecord, tis: SnapshotTiValues[] | null): RunSnapshot {
  return { run, tis: tis === null ? [] : tis.map((v) => snapshotTaskInstance(v, run)).sort((a, b) => a.id - b.id) };
}

/** The snapshots of `runIds` (ids not found are omitted), in run id order, task instances in id order. */
export async function loadRunSnapshots(db: Db, runIds: number[]): Promise<RunSnapshot[]> {
  if (runIds.length === 0) return [];
  const rows = await queryValues<[run: string, tis: string | null]>(db, SNAPSHOTS_SQL, [arrayParam(runIds)]);
  const snapshots = rows.map(([runJson, tisJson]) =>
    snapshotFromJson(runFromJson(runJson), tisJson === null ? null : (JSON.parse(tisJson) as SnapshotTiValues[])),
  );
  return snapshots.sort((a, b) => a.run.id - b.run.id);
}
