/**
 * CronRunCreator: the loop's DueRunCreator. On each full sweep, when the next slot is due, and after a run
 * ends (a max_active_runs slot may have opened), it creates the scheduled runs of every active, unpaused
 * DAG with a schedule: each due slot (cron.ts) becomes a run of type "scheduled" with its data interval,
 * oldest first, only as many as leave the DAG under max_active_runs (queued+running, backfills excluded);
 * the rest are created on a later call, in order (catchup) or skipped to the latest (no catchup).
 * Idempotent: run ids are `scheduled__<logical_date>`, so a slot created twice is a no-op.
 * It also marks backfills whose runs have all finished as completed.
 *
 * @example new SchedulerLoop({ ..., runCreator: new CronRunCreator({ store, logger }) })
 */
import { ConflictError, type ScheduledDag, toError } from "../domain";
import type { Logger } from "../observability";
import type { SchedulerStore } from "../store";
import { dueSlots, nextDueAt, type ScheduleInput } from "./cron";
import type { DueRunCreator } from "./loop";
import { buildDagRun } from "./trigger";

/** How many DAGs create their due runs at once (the Postgres pool has 10 connections by default). */
const CREATE_CONCURRENCY = 8;

export interface CronRunCreatorOptions {
  store: Pick<SchedulerStore, "listScheduledDags" | "createDagRun" | "completeFinishedBackfills">;
  logger: Logger;
}

export class CronRunCreator implements DueRunCreator {
  constructor(private readonly opts: CronRunCreatorOptions) {}

  async createDueRuns(now: Date): Promise<{ created: number[]; nextDueAt: Date | null }> {
    const { store, logger } = this.opts;
    for (const id of await store.completeFinishedBackfills(now)) logger.info("backfill completed", { backfill_id: id });
    const created: number[] = [];
    let next: number | null = null;
    // DAGs are independent: create their runs a few at a time, so 200 DAGs due in the same second cost ~25
    // store round trips in sequence on Postgres rather than 200 (SQLite runs them one by one regardless).
    const dags = await store.listScheduledDags();
    let nextIndex = 0;
    const worker = async () => {
      for (let i = nextIndex++; i < dags.length; i = nextIndex++) {
        const scheduled = dags[i]!;
        try {
          const { ids, nextDue } = await this.createForDag(scheduled, now);
          created.push(...ids);
          if (nextDue) next = Math.min(next ?? Infinity, nextDue.getTime());
        } catch (e) {
          // One DAG's problem (e.g. a param without default) must not stop the others' schedules.
          logger.error("creating scheduled runs of a DAG failed; other DAGs go on", { dag_id: scheduled.dag.dag_id, error: toError(e) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, dags.length) }, worker));
    created.sort((a, b) => a - b);
    return { created, nextDueAt: next === null ? null : new Date(next) };
  }

  private async createForDag(scheduled: ScheduledDag, now: Date): Promise<{ ids: number[]; nextDue: Date | null }> {
    const { dag } = scheduled;
    const spec = dag.spec;
    const input: ScheduleInput = {
      schedule: spec.schedule,
      timezone: spec.timezone,
      start_date: spec.start_date ?? null,
      end_date: spec.end_date ?? null,
      catchup: spec.catchup,
      latest_logical_date: scheduled.latest_scheduled_logical_date,
    };
    const room = spec.max_active_runs - scheduled.active_runs;
    const ids: number[] = [];
    for (const slot of room > 0 ? dueSlots(input, now, room) : []) {
      try {
        const run = await this.opts.store.createDagRun(
          buildDagRun(
            dag,
            {
              run_type: "scheduled",
              logical_date: slot.logical_date,
              data_interval_start: slot.data_interval_start,
              data_interval_end: slot.data_interval_end,
            },
            now,
          ),
        );
        ids.push(run.id);
        this.opts.logger.info("scheduled run created", {
          dag_id: dag.dag_id,
          run_id: run.run_id,
          lateness_ms: now.getTime() - slot.run_after.getTime(),
        });
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e; // already created by an earlier sweep or another scheduler
      }
      input.latest_logical_date = slot.logical_date;
    }
    return { ids, nextDue: nextDueAt(input, now) };
  }
}
