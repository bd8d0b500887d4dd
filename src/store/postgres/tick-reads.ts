/**
 * A woken tick's reads in one statement (loadTickReads): the runs' snapshots, their gates, the active task
 * counts and the pools' usage, each the same SQL as its own read (snapshots.ts, scheduling.ts,
 * active-counts.ts, pools.ts). An inline task hop waits on this read between its upstream's finish and its
 * downstream's start: four statements sent together still cost the server four parses and executions and this
 * process four results to decode (0.15–0.2 ms of CPU each, traced), one statement costs one. One statement is one
 * snapshot, so the reads agree with each other. Measured on one hop's reads (one run, alternating blocks): 1.16 →
 * 0.31 ms of wall, 0.44 → 0.15 ms client CPU.
 *
 * The task instances come as rows of a UNION ALL (snapshots.ts), the rest as four JSON texts in one more row. The
 * task instances as JSON too (json_agg per run) cost the server several times what they saved in decoding: a new
 * run of 10,000 tasks (a fan-out's first tick) read in 129 ms against 62 as rows, a 10-task run's in the same 0.42.
 */
import { CAPACITY_SQL, toCapacity, type CapacityPoolRow, type CapacityRow } from "../active-counts";
import type { TickReads } from "../ports/scheduler";
import type { DagRef } from "../../domain";
import { arrayParam, queryValues, type Db } from "./client";
import { dagRefParams, foldRunGates, runGatesSql, type RunGateRow } from "./scheduling";
import { DAG_RUN_COLUMNS, runFromJsonValue } from "./rows";
import { NO_SNAPSHOT_TI, SNAPSHOT_TI_ROW, SNAPSHOT_TI_WIDTH, snapshotsOf } from "./snapshots";

/**
 * The ids go in as `(SELECT $n::bigint[])::bigint[]`, a value the planner cannot see: a custom plan then costs
 * what the generic one does, so after its first five runs Postgres keeps the generic plan instead of planning
 * this statement afresh on every execution (0.5–0.7 ms of the server's time per tick, measured: more than
 * running it). A woken tick reads a handful of runs, so a plan for "a few ids" is the right one.
 */
const IDS = "(SELECT $1::bigint[])::bigint[]";
const TICK_READS_SQL = `SELECT ${SNAPSHOT_TI_ROW}, NULL::text AS runs, NULL::text AS gates, NULL::text AS active, NULL::text AS pools
FROM task_instances WHERE dag_run_id = ANY(${IDS})
UNION ALL
SELECT ${NO_SNAPSHOT_TI},
  (SELECT json_agg(row_to_json(r)) FROM (SELECT ${DAG_RUN_COLUMNS} FROM dag_runs WHERE id = ANY(${IDS})) r)::text,
  (SELECT json_agg(row_to_json(g)) FROM (${runGatesSql("(SELECT $2::bigint[])::bigint[]", "(SELECT $3::text[])::text[]", "(SELECT $4::text[])::text[]")}) g)::text,
  (SELECT json_agg(row_to_json(c)) FROM (${CAPACITY_SQL}) c)::text,
  (SELECT json_agg(json_build_object('team', team, 'name', name, 'slots', slots, 'include_deferred', include_deferred) ORDER BY id) FROM pools)::text`;

/** A json_agg column: null when it aggregated no rows. */
const rowsOf = <T>(text: string | null): T[] => (text === null ? [] : (JSON.parse(text) as T[]));

export async function loadTickReads(
  db: Db,
  snapshotIds: number[],
  gateIds: number[],
  gateDags: readonly DagRef[] = [],
): Promise<TickReads> {
  const rows = await queryValues<unknown[]>(db, TICK_READS_SQL, [arrayParam(snapshotIds), arrayParam(gateIds), ...dagRefParams(gateDags)]);
  // The one row that is not a task instance (its id NULL) holds the other reads.
  const rest = rows.findLast((r) => r[0] === null) ?? [];
  /** Its k-th JSON text after the task columns: the runs, the gates, the active counts, the pools. */
  const json = (k: number) => (rest[SNAPSHOT_TI_WIDTH + k] ?? null) as string | null;
  return {
    snapshots: snapshotsOf(rowsOf<unknown>(json(0)).map(runFromJsonValue), rows),
    gates: await foldRunGates(db, rowsOf<RunGateRow>(json(1))),
    ...toCapacity(rowsOf<CapacityRow>(json(2)), rowsOf<CapacityPoolRow>(json(3))),
  };
}
