/**
 * Whether a backfill skips a date, from the state of the date's latest run: the one decision both the backfill
 * (Store.createBackfill) and its dry run make, so the dry run answers the dates the backfill then creates. Pure.
 */
import type { BackfillSkips } from "./records";
import type { DagRunState } from "./states";

/**
 * The reason a backfill leaves a date out (Airflow's "in flight", "already exists"), or undefined when it creates
 * the date's run: the date has no run (`latest` undefined), or its latest run's state is not one `skips` lists.
 *
 * @example backfillSkipReason({ running: "in flight" }, "running") // "in flight"
 * @example backfillSkipReason({ running: "in flight" }, undefined) // undefined: no run yet, created
 */
export function backfillSkipReason(skips: BackfillSkips, latest: DagRunState | undefined): string | undefined {
  return latest === undefined ? undefined : skips[latest];
}
