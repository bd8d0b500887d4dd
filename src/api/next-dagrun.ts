/**
 * A DAG's next run as DAGResponse shows it (Airflow's next_dagrun_logical_date, …_data_interval_start/end,
 * …_run_after): the slot the scheduler will create next, from the same pure function the scheduler's slots come
 * from (scheduler/cron.ts nextSlot) and the same latest scheduled run, so the two never disagree. One store read
 * for a whole page of DAGs, and only for the DAGs that have a schedule.
 *
 * @example const next = await nextDagRuns(store, team, page.items, deps.now()); serializeDag(dag, next.get(dag.dag_id))
 */
import type { DagRecord } from "../domain";
import { nextSlot, scheduleInputOf, type Slot } from "../scheduler";
import type { DagsQueryStore } from "../store";

/** By dag_id: the DAG's next slot; absent for a DAG without one (no schedule, past end_date, @once done). */
export async function nextDagRuns(
  store: Pick<DagsQueryStore, "latestScheduledLogicalDates">,
  team: string,
  dags: readonly DagRecord[],
  now: Date,
): Promise<Map<string, Slot>> {
  const next = new Map<string, Slot>();
  const scheduled = dags.filter((d) => d.spec.schedule !== null);
  if (scheduled.length === 0) return next;
  const latest = await store.latestScheduledLogicalDates(
    team,
    scheduled.map((d) => d.dag_id),
  );
  for (const dag of scheduled) {
    try {
      const slot = nextSlot(scheduleInputOf(dag.spec, latest.get(dag.dag_id) ?? null), now);
      if (slot) next.set(dag.dag_id, slot);
    } catch {
      // A schedule the scheduler cannot read either (it logs that): no next run to show, the list still answers.
    }
  }
  return next;
}
