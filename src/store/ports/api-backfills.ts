/** BackfillsApiStore: creating, listing, pausing and cancelling backfills (the loop starts their runs). */
import type { BackfillRecord, DagRunState, ListOptions, NewBackfill, Page } from "../../domain";

export interface BackfillsApiStore {
  /**
   * Creates a backfill of `input.team`'s DAG and its runs (all in that team) in one transaction. ConflictError
   * when the DAG already has a backfill with completed_at null. For each `runs[i]` in order (its logical_date
   * set), the DAG's latest run with that logical_date, as latestRunStates reads it in the same transaction,
   * decides: none, or its state not in `skip_existing`: create; else skip
   * with the reason listed for its state. A created run is inserted as createDagRun does (state queued, its task instances in state none)
   * with backfill_id set; when its run_id is taken it gets `<run_id>_<backfill id>` instead (the old run
   * stays). Returns the backfill, the created run ids in order, and each skipped logical_date with its reason.
   */
  createBackfill(
    input: NewBackfill,
  ): Promise<{ backfill: BackfillRecord; created: number[]; skipped: { logical_date: Date; reason: string }[] }>;
  /**
   * By logical date (epoch ms), the state of the DAG's latest run at each of `logicalDates` that has one (any
   * run_type; latest = start_date descending with NULLs last, then id descending): what createBackfill decides
   * on, so that a dry run (GET … backfills/dry_run) answers the dates the backfill would create.
   */
  latestRunStates(team: string, dagId: string, logicalDates: readonly Date[]): Promise<Map<number, DagRunState>>;
  /** The team's backfill; null when the team has none with that id (another team's is as absent). */
  getBackfill(team: string, id: number): Promise<BackfillRecord | null>;
  /** Page of the team's backfills, optionally of one DAG; order_by accepts id (default), created_at, completed_at. */
  listBackfills(team: string, opts?: ListOptions & { dag_id?: string }): Promise<Page<BackfillRecord>>;
  /** Sets is_paused and updated_at = now; null when the team has no such backfill. */
  setBackfillPaused(team: string, id: number, paused: boolean, now: Date): Promise<BackfillRecord | null>;
  /**
   * In one transaction: pauses the backfill, fails its runs still `queued` (end_date = now, note "backfill
   * <id> cancelled"), sets completed_at = updated_at = now. Running runs finish normally. Null when the team
   * has no such backfill.
   */
  cancelBackfill(team: string, id: number, now: Date): Promise<BackfillRecord | null>;
}
