/**
 * CronRunCreator: the loop's DueRunCreator. When the next slot is due, on each full sweep, and after a run
 * ends while a DAG waits for room under max_active_runs, it creates the scheduled runs of every active,
 * unpaused DAG with a schedule: each due slot (cron.ts) becomes a run of type "scheduled" with its data
 * interval, oldest first, only as many as leave the DAG under max_active_runs (queued+running, backfills
 * excluded); the rest are created on a later call, in order (catchup) or skipped to the latest (no catchup).
 * Every DAG's runs of one call go to the store together (one transaction on SQLite, one statement on
 * Postgres): 200 DAGs due in the same second cost one round trip, not 200.
 * Idempotent: run ids are `scheduled__<logical_date>`, so a slot created twice is a no-op.
 * It also marks backfills whose runs have all finished as completed.
 *
 * @example new SchedulerLoop({ ..., runCreator: new CronRunCreator({ store, logger }) })
 */
import { ConflictError, type NewDagRun, type ScheduledDag, teamKey, toError } from "../domain";
import type { Logger } from "../observability";
import type { SchedulerStore } from "../store";
import { dueSlots, nextDueAt, scheduleInputOf, type Slot } from "./cron";
import type { DueRunCreator } from "./loop";
import { buildDagRun } from "./trigger";

export interface CronRunCreatorOptions {
  store: Pick<SchedulerStore, "listScheduledDags" | "createDagRun" | "createDagRuns" | "completeFinishedBackfills">;
  logger: Logger;
}

/** A run to create, with what its log line says. */
interface DueRun {
  run: NewDagRun;
  slot: Slot;
}

/** One DAG's share of a call: its runs to create, when its next slot is due, whether a due slot waits for room. */
interface DagPlan {
  runs: DueRun[];
  nextDue: Date | null;
  waitingForRoom: boolean;
}

/** A DAG that had nothing due: until `nextDue`, and while its version and latest run stay `key`, it has nothing due still. */
interface QuietDag {
  key: string;
  nextDue: Date | null;
}

export class CronRunCreator implements DueRunCreator {
  /** By teamKey: the DAGs whose schedule need not be asked again yet (it costs ~0.1 ms per question, every second). */
  private quiet = new Map<string, QuietDag>();

  constructor(private readonly opts: CronRunCreatorOptions) {}

  async createDueRuns(now: Date): Promise<{ created: number[]; nextDueAt: Date | null; waitingForRoom: boolean }> {
    const { store, logger } = this.opts;
    for (const id of await store.completeFinishedBackfills(now)) logger.info("backfill completed", { backfill_id: id });
    const due: DueRun[] = [];
    let next: number | null = null;
    let waitingForRoom = false;
    const quiet = new Map<string, QuietDag>();
    for (const scheduled of await store.listScheduledDags()) {
      const { team, dag_id, version_id } = scheduled.dag;
      const id = teamKey(team, dag_id);
      const key = `${version_id} ${scheduled.latest_scheduled_logical_date?.getTime()}`;
      try {
        let plan: DagPlan;
        const known = this.quiet.get(id);
        // No slot ends before nextDue: whatever was not due at the last call is not due now either.
        if (known?.key === key && (known.nextDue === null || now < known.nextDue))
          plan = { runs: [], nextDue: known.nextDue, waitingForRoom: false };
        else plan = planDag(scheduled, now);
        if (!plan.runs.length && !plan.waitingForRoom) quiet.set(id, { key, nextDue: plan.nextDue });
        due.push(...plan.runs);
        if (plan.nextDue) next = Math.min(next ?? Infinity, plan.nextDue.getTime());
        waitingForRoom ||= plan.waitingForRoom;
      } catch (e) {
        // One DAG's problem (e.g. a param without default) must not stop the others' schedules.
        logger.error("creating scheduled runs of a DAG failed; other DAGs go on", { dag_id: scheduled.dag.dag_id, error: toError(e) });
      }
    }
    this.quiet = quiet;
    const created: number[] = [];
    for (const [i, id] of (await this.insert(due)).entries()) {
      if (id === null) continue; // already created by an earlier call or another scheduler
      const { run, slot } = due[i]!;
      created.push(id);
      this.opts.logger.info("scheduled run created", {
        dag_id: run.dag_id,
        run_id: run.run_id,
        lateness_ms: now.getTime() - slot.run_after.getTime(),
      });
    }
    created.sort((a, b) => a - b);
    return { created, nextDueAt: next === null ? null : new Date(next), waitingForRoom };
  }

  /**
   * The runs' ids in order, null where the run existed already. All at once; if that fails (a DAG deleted
   * meanwhile breaks the whole statement), one by one, so one DAG's failure does not hold up the others.
   */
  private async insert(due: readonly DueRun[]): Promise<(number | null)[]> {
    if (due.length === 0) return [];
    try {
      return (await this.opts.store.createDagRuns(due.map((d) => d.run))).map((r) => r?.id ?? null);
    } catch (e) {
      this.opts.logger.warn("creating a slot's runs together failed; creating them one by one", { error: toError(e) });
    }
    const ids: (number | null)[] = [];
    for (const { run } of due) {
      try {
        ids.push((await this.opts.store.createDagRun(run)).id);
      } catch (e) {
        ids.push(null);
        if (!(e instanceof ConflictError))
          this.opts.logger.error("creating scheduled runs of a DAG failed; other DAGs go on", { dag_id: run.dag_id, error: toError(e) });
      }
    }
    return ids;
  }
}

/** A DAG's due runs at `now` (pure): its due slots, as many as max_active_runs leaves room for. */
function planDag(scheduled: ScheduledDag, now: Date): DagPlan {
  const { dag } = scheduled;
  const spec = dag.spec;
  const input = scheduleInputOf(spec, scheduled.latest_scheduled_logical_date);
  const room = spec.max_active_runs - scheduled.active_runs;
  const slots = room > 0 ? dueSlots(input, now, room) : [];
  const runs = slots.map((slot) => {
    const run = buildDagRun(
      dag,
      {
        run_type: "scheduled",
        logical_date: slot.logical_date,
        data_interval_start: slot.data_interval_start,
        data_interval_end: slot.data_interval_end,
      },
      now,
    );
    // Airflow 3's run_after of a scheduled run: when its slot became due (the interval's end), never after now
    // (a due slot's run_after is at or before now), so the run gate starts it at once.
    run.run_after = slot.run_after;
    return { slot, run };
  });
  if (slots.length) input.latest_logical_date = slots.at(-1)!.logical_date;
  // A due slot can be left over only when the room ran out: only then is the schedule asked again.
  const waitingForRoom = slots.length >= room && dueSlots(input, now, 1).length > 0;
  return { runs, nextDue: nextDueAt(input, now), waitingForRoom };
}
