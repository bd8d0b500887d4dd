/**
 * The tick's snapshot reads on Postgres: runs with all their task instances, as rows. A task instance is a row of
 * three columns (SNAPSHOT_TI_ROW): its SNAPSHOT_TI_COLUMNS but note and hostname packed into one composite text
 * (Postgres's record output, timestamps as epoch ms via date_part, a double exact once rounded), then note and
 * hostname. Each run is one JSON text of its dag_runs row. A sweep's thousands of runs come back from
 * loadRunSnapshots below, a woken tick's few from loadTickReads (tick-reads.ts), which puts the same task rows
 * beside its other reads in one statement. One statement is one snapshot either way: every run's task instances
 * are consistent with it, and no BEGIN/COMMIT.
 */
import type { DagRunRecord, RunSnapshot } from "../../domain";
import {
  SNAPSHOT_TI_COLUMNS,
  SNAPSHOT_TI_TEXTS,
  SNAPSHOT_TI_TIMES,
  snapshotTaskInstance,
  type SnapshotTiValues,
} from "../snapshot-columns";
import { arrayParam, queryValues, recordFields, type Db } from "./client";
import { DAG_RUN_COLUMNS, runFromJson } from "./rows";

const COLUMNS = SNAPSHOT_TI_COLUMNS.split(", ");
/**
 * The free-text columns that stay columns of their own. A field sliced out of the packed text shares its buffer, so
 * a note kept as read would keep the whole row's text alive while the loop holds the snapshot (the other texts go
 * through the intern map, whose lookup gives a string a buffer of its own: measured, docs/performance.md); hostname
 * is an agent's free text too. Both are mostly NULL, which costs the driver nothing to decode.
 */
const BESIDE = ["note", "hostname"] as const;
const PACKED = COLUMNS.filter((c) => !(BESIDE as readonly string[]).includes(c));

/**
 * A task instance as three columns: the packed text, note, hostname. Packed, not a column each: the driver
 * decodes every cell into a string of its own (a Buffer toString per cell was 38% of a sweep's read, profiled),
 * where reading one text in place here costs a fraction of that.
 */
export const SNAPSHOT_TI_ROW = `row(${PACKED.map((c) => (SNAPSHOT_TI_TIMES.has(c) ? `round(date_part('epoch', ${c}) * 1000)` : c)).join(", ")})::text, ${BESIDE.join(", ")}`;

/** How many columns a task row has: what a statement puts after them starts at this index. */
export const SNAPSHOT_TI_WIDTH = 1 + BESIDE.length;

/** NULL for every task column: the task part of a row of a UNION ALL that holds something else. */
export const NO_SNAPSHOT_TI = Array(SNAPSHOT_TI_WIDTH).fill("NULL::text").join(", ");

/** Where each packed field goes in SnapshotTiValues, and whether it is a number (all but the texts). */
const PACKED_AT = PACKED.map((c) => COLUMNS.indexOf(c));
const PACKED_NUMBER = PACKED.map((c) => !SNAPSHOT_TI_TEXTS.has(c));
const BESIDE_AT = BESIDE.map((c) => COLUMNS.indexOf(c));

/**
 * The SnapshotTiValues of a task row (its first SNAPSHOT_TI_WIDTH columns as SNAPSHOT_TI_ROW reads them). The
 * packed text is read in place (a field's end by indexOf, a number from its digits) rather than split into a
 * string per field first (splitting was a third of the read's CPU, profiled). A text with a quoted field (a pool
 * name with a space or a comma) goes through recordFields.
 */
function tiValues(row: readonly unknown[]): SnapshotTiValues {
  const text = row[0] as string;
  const values: unknown[] = new Array(COLUMNS.length);
  if (text.includes('"')) {
    const fields = recordFields(text);
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      values[PACKED_AT[i]!] = f === null || !PACKED_NUMBER[i] ? f : +f;
    }
  } else {
    let at = 1; // past "("
    for (let i = 0; i < PACKED_AT.length; i++) {
      const comma = text.indexOf(",", at);
      const end = comma < 0 ? text.length - 1 : comma; // the last field ends at ")"
      values[PACKED_AT[i]!] = end === at ? null : PACKED_NUMBER[i] ? numberAt(text, at, end) : text.slice(at, end);
      at = end + 1;
    }
  }
  for (let i = 0; i < BESIDE_AT.length; i++) values[BESIDE_AT[i]!] = row[1 + i];
  return values as SnapshotTiValues;
}

/** The number text[from, to) writes: an integer read from its digits, anything else (a fraction, an exponent) parsed. */
function numberAt(text: string, from: number, to: number): number {
  const negative = text.charCodeAt(from) === 45; // "-"
  let n = 0;
  for (let i = negative ? from + 1 : from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return +text.slice(from, to);
    n = n * 10 + digit;
  }
  return negative ? -n : n;
}

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
 * The snapshots of `runs` from rows whose first SNAPSHOT_TI_WIDTH columns are a task instance (SNAPSHOT_TI_ROW; a
 * NULL first column: a row that holds something else), in run id order, task instances in id order. Rows of other
 * runs are ignored.
 */
export function snapshotsOf(runs: readonly DagRunRecord[], rows: readonly unknown[][]): RunSnapshot[] {
  const byRun = new Map<number, RunSnapshot>();
  for (const run of runs) byRun.set(run.id, { run, tis: [] });
  for (const row of rows) {
    if (row[0] === null) continue;
    const values = tiValues(row);
    const snap = byRun.get(values[1]);
    snap?.tis.push(snapshotTaskInstance(values, snap.run));
  }
  const snapshots = [...byRun.values()].sort((a, b) => a.run.id - b.run.id);
  for (const s of snapshots) s.tis.sort((a, b) => a.id - b.id);
  return snapshots;
}
