/** DagsQueryStore: Airflow's DAG list filters, bulk pause, delete, and the DAG's neighbours (versions, stats, tags), each inside one team. */
import type { DagRecord, DagRunState, ListOptions, Page, TimeRange } from "../../domain";

/**
 * What GET /dags filters on. Patterns are SQL LIKE (`%`, `_`, `\` escapes), case-insensitive, used as given
 * (the API wraps Airflow's `value` into `%value%`). The `last_run_*` filters apply to each DAG's latest run
 * that has started (highest id with a start_date), as Airflow does.
 */
export interface DagFilter extends ListOptions {
  /** The dag_id matches every one of these (Airflow's dag_id_pattern and dag_display_name_pattern, as display name = dag_id). */
  dag_id_patterns?: string[];
  /** Only DAGs that still have a file defining them (Airflow's exclude_stale). */
  only_active?: boolean;
  paused?: boolean;
  tags?: string[];
  /** "any" (default): the DAG has one of the tags; "all": it has every one. */
  tags_match_mode?: "any" | "all";
  /** Case-insensitive substrings of a task owner; a DAG matches when one of its owners contains any of them. */
  owners?: string[];
  /** The DAG's file has (true) or has no (false) import errors. */
  has_import_errors?: boolean;
  last_run_state?: DagRunState[];
  last_run_start_date?: TimeRange;
  last_run_end_date?: TimeRange;
  /** Several sort keys (Airflow's repeated order_by); `order_by` of ListOptions is the first if this is absent. */
  order_by_list?: string[];
}

/** One stored version of a DAG (Airflow's DagVersion): a server-wide id, and Airflow's number within its DAG. */
export interface DagVersionRecord {
  /** Server-wide id (what runs pin). */
  version_id: number;
  dag_id: string;
  created_at: Date;
  /** Airflow's version_number: 1, 2, 3 … within the DAG (its rank by id among the DAG's versions). */
  version_number: number;
}

/** How many runs of a DAG are in one state. */
export interface DagRunStateCount {
  dag_id: string;
  state: DagRunState;
  count: number;
}

export interface DagsQueryStore {
  /** Page of DAGs matching every given filter; order_by accepts dag_id (default), dag_display_name, fileloc, is_paused, is_active, last_parsed_at, last_run_state, last_run_start_date. */
  findDags(team: string, filter: DagFilter): Promise<Page<DagRecord>>;
  /** Sets is_paused on every DAG matching the filter (paging ignored, one statement); returns how many matched. */
  setDagsPaused(team: string, filter: DagFilter, paused: boolean): Promise<number>;
  /**
   * Deletes a DAG and everything recorded of it (runs, task instances, logs, XComs, backfills, versions) in one
   * transaction: "deleted", "not_found", or "running" (nothing deleted) while any task instance is queued or running.
   */
  deleteDag(team: string, dagId: string): Promise<"deleted" | "not_found" | "running">;
  /**
   * A DAG's versions (every DAG's when dag_id is absent), oldest first by default; order_by: id, version_number,
   * created_at. `version_id` filters by the server-wide id, `version_number` by the per-DAG number.
   */
  listDagVersions(
    team: string,
    filter: ListOptions & { dag_id?: string; version_id?: number; version_number?: number },
  ): Promise<Page<DagVersionRecord>>;
  /** Run counts per (dag, state), only non-zero ones; all DAGs when dagIds is absent. */
  countDagRunStates(team: string, dagIds?: string[]): Promise<DagRunStateCount[]>;
  /**
   * The logical_date of each given DAG's latest scheduled run (run_type "scheduled"), what the scheduler's next
   * slot follows (SchedulerStore.listScheduledDags reads the same): one statement for a page of DAGs. DAGs with no
   * scheduled run are absent from the map.
   */
  latestScheduledLogicalDates(team: string, dagIds: readonly string[]): Promise<Map<string, Date>>;
  /** Distinct tags of all DAGs, sorted by name (order_by: name or -name), optionally matching a LIKE pattern. */
  listDagTags(team: string, opts: ListOptions & { pattern?: string }): Promise<Page<string>>;
}
