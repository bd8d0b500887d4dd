/**
 * Sensors checked by the control plane, not by a sleeping process: a scheduled sensor moves to `deferred`
 * (no slot, no max_active_tasks; a pool slot only with the pool's include_deferred) with its next check stored in
 * the database; one timer, armed for the earliest next check, runs the due checks a batch at a time with bounded
 * concurrency, outside the tick.
 * Each answer becomes success, another wait, or failed/skipped (sensor-timing.ts decides). The same timer
 * releases user checks in mode reschedule (bash, ts: up_for_reschedule → scheduled) when their next check is
 * due. State lives in the database, so a restart or a new leader just reads the due checks again.
 */
import {
  afterCheck,
  sensorTiming,
  toError,
  waitingNote,
  type DagRunRecord,
  type DagSpec,
  isAgentSensor,
  type ControlPlaneSensor,
  type SensorCheckContext,
  type TaskInstanceRecord,
  type TaskSpec,
} from "../domain";
import type { Logger } from "../observability";
import type { DueSensor, SchedulerStore, SensorStore } from "../store";
import type { Clock, TimerHandle } from "./clock";

/**
 * Answers one sensor check: done, or not yet (with when it will be done, when known). Throws when the check
 * cannot be made (a missing connection, another DAG's task failed): the sensor fails, or skips with soft_fail.
 */
export interface SensorChecker {
  check(sensor: ControlPlaneSensor, ctx: SensorCheckContext): Promise<{ done: boolean; doneAt?: Date }>;
}

export type SensorPollerStore = SensorStore & Pick<SchedulerStore, "applyTransitions" | "getDagVersion">;

export interface SensorPollerOptions {
  store: SensorPollerStore;
  checker: SensorChecker;
  clock: Clock;
  logger: Logger;
  /** Plans a run again (a sensor of it ended). */
  wake: (dagRunId: number) => void;
  /** Checks in flight at once (default 32): a slow HTTP or SQL check holds one of these, never the tick. */
  concurrency?: number;
  /** Due checks read per round (default 1000). */
  batch?: number;
}

/** What one check led to, with the note the task instance shows (a wait's next check, a failure's reason). */
type Outcome = { sensor: DueSensor } & (
  | { outcome: "success" }
  | { outcome: "wait"; nextCheckAt: Date; note: string }
  | { outcome: "failed" | "skipped"; note: string; final?: true }
);

/** A scheduled sensor the dispatch step hands over. */
export type SensorCandidate = { ti: TaskInstanceRecord; run: DagRunRecord; spec: DagSpec };

export class SensorPoller {
  private running = false;
  /** Set by stop(): a poll in flight finishes its round and reads no further batch. */
  private halted = false;
  private timer: { at: number; handle: TimerHandle } | null = null;
  private polling: Promise<void> | null = null;
  /** Timer re-arms after a reschedule, awaited by idle(). */
  private readonly arming = new Set<Promise<void>>();
  private again = false;
  private readonly tasks = new WeakMap<DagSpec, Map<string, TaskSpec>>();

  constructor(private readonly opts: SensorPollerOptions) {}

  /** Whether the control plane checks this task: every sensor kind but bash, whose check an agent runs. */
  accepts(task: TaskSpec): boolean {
    return task.operator === "sensor" && task.sensor !== undefined && !isAgentSensor(task.sensor);
  }

  /** Starts checking: the due checks of any earlier term (a restart, a leader change) are read from the store. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.halted = false;
    this.armFor(this.opts.clock.now().getTime());
  }

  /** Stops the timer; resolves once the round in flight has ended (its answers are dropped, not written). */
  async stop(): Promise<void> {
    this.running = false;
    this.halted = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer.handle);
    this.timer = null;
    await this.polling;
  }

  /**
   * Moves scheduled sensors to deferred, first check now. The bookkeeping is written first (still scheduled),
   * then the state: a crash in between leaves a scheduled sensor the next tick hands over again.
   */
  async defer(candidates: readonly SensorCandidate[], now: Date): Promise<void> {
    const items = candidates.flatMap((c) => {
      const task = this.taskOf(c.spec, c.ti.task_id);
      if (!task?.sensor) return [];
      return [{ id: c.ti.id, try_number: c.ti.try_number, note: waitingNote(sensorTiming(task), task.sensor, now, now) }];
    });
    const ready = await this.opts.store.prepareSensorWaits(items, now);
    const moving = items.filter((_, i) => ready[i]);
    await this.opts.store.applyTransitions(
      moving.map((i) => ({ id: i.id, from: ["scheduled"], to: "deferred", try_number: i.try_number, patch: { start_date: now } })),
      now,
    );
    if (moving.length) this.armFor(now.getTime());
  }

  /** An agent ended a user check's try up_for_reschedule: arm the timer for the earliest next check. */
  rescheduled(): void {
    // Even while a round is in flight: that round may have read the next check before this one was written.
    if (!this.running) return;
    const arming = this.rearm().finally(() => this.arming.delete(arming));
    this.arming.add(arming);
  }

  /** Runs every due check now (tests and the timer); resolves when their results are written. */
  poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      try {
        do {
          this.again = false;
          await this.round();
        } while (this.again && !this.halted);
      } catch (e) {
        this.opts.logger.error("checking sensors failed; the next round retries", { error: toError(e) });
      }
      if (this.running) await this.rearm();
    })().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  /** Resolves once no round is in flight (tests settle on it). */
  async idle(): Promise<void> {
    while (this.polling || this.arming.size) await Promise.all([this.polling, ...this.arming]);
  }

  private async round(): Promise<void> {
    const { store, clock } = this.opts;
    const batch = this.opts.batch ?? 1000;
    const dueRows = await store.listDueSensors(clock.now(), batch);
    if (dueRows.length === batch) this.again = true;
    await this.release(dueRows.filter((s) => s.state === "up_for_reschedule"));
    const due = dueRows.filter((s) => s.state === "deferred");
    const specs = new Map<number, Promise<DagSpec | null>>();
    const outcomes: Outcome[] = [];
    await forEachLimited(due, this.opts.concurrency ?? 32, async (s) => {
      if (!specs.has(s.version_id)) specs.set(s.version_id, store.getDagVersion(s.version_id));
      const spec = await specs.get(s.version_id);
      const task = spec ? this.taskOf(spec, s.task_id) : undefined;
      const timing = sensorTiming(task ?? {});
      let result: { done: boolean; doneAt?: Date } | { error: string };
      if (!task?.sensor || isAgentSensor(task.sensor))
        result = { error: `task "${s.task_id}" is no sensor the control plane checks in the run's DAG version ${s.version_id}` };
      else
        try {
          result = await this.opts.checker.check(task.sensor, { ...s, now: clock.now() });
        } catch (e) {
          result = { error: toError(e).message };
        }
      const now = clock.now();
      const out = afterCheck(timing, { startedAt: s.sensor_started_at, checks: s.sensor_checks + 1, result }, now);
      if (out.outcome !== "wait") outcomes.push({ sensor: s, ...out });
      // A wait implies the check ran, so the task is a sensor.
      else outcomes.push({ sensor: s, ...out, note: waitingNote(timing, task!.sensor!, out.nextCheckAt, s.sensor_started_at) });
    });
    await this.write(outcomes);
  }

  /**
   * User checks in mode reschedule whose next check is due go back to `scheduled` on the same try (a
   * reschedule spends no retry), and dispatch launches the check again.
   */
  private async release(due: DueSensor[]): Promise<void> {
    if (this.halted || !due.length) return;
    const now = this.opts.clock.now();
    const applied = await this.opts.store.applyTransitions(
      due.map((s) => ({ id: s.id, from: ["up_for_reschedule"], to: "scheduled", try_number: s.try_number })),
      now,
    );
    due.forEach((s, i) => {
      if (applied[i]) this.opts.wake(s.dag_run_id);
    });
  }

  private async write(outcomes: Outcome[]): Promise<void> {
    // A leader stepping down writes nothing more: the checks stay due, and the next leader makes them again.
    if (this.halted) return;
    const now = this.opts.clock.now();
    const waits = outcomes.flatMap((o) =>
      o.outcome === "wait" ? [{ id: o.sensor.id, try_number: o.sensor.try_number, next_check_at: o.nextCheckAt, note: o.note }] : [],
    );
    const ends = outcomes.flatMap((o) => (o.outcome === "wait" ? [] : [o]));
    await this.opts.store.recordSensorChecks(waits);
    const applied = await this.opts.store.applyTransitions(
      ends.map((o) => ({
        id: o.sensor.id,
        from: ["deferred"],
        to: o.outcome,
        try_number: o.sensor.try_number,
        // A timeout is final: max_tries drops to the tries made, so the planner does not retry it (Airflow's rule).
        patch: {
          end_date: now,
          note: o.outcome === "success" ? null : o.note,
          ...(o.outcome !== "success" && o.final ? { max_tries: o.sensor.try_number - 1 } : {}),
        },
      })),
      now,
    );
    ends.forEach((o, i) => {
      if (!applied[i]) return;
      const fields = { dag_id: o.sensor.dag_id, run_id: o.sensor.run_id, task_id: o.sensor.task_id };
      if (o.outcome === "success") this.opts.logger.info("sensor done", fields);
      else this.opts.logger.warn(`sensor ${o.outcome}`, { ...fields, note: o.note });
      this.opts.wake(o.sensor.dag_run_id);
    });
  }

  /** Arms the one timer for the earliest next check in the store. */
  private async rearm(): Promise<void> {
    try {
      const next = await this.opts.store.nextSensorCheckAt();
      if (next) this.armFor(next.getTime());
    } catch (e) {
      this.opts.logger.error("reading the next sensor check failed; retrying in 5 s", { error: toError(e) });
      this.armFor(this.opts.clock.now().getTime() + 5_000);
    }
  }

  private armFor(at: number): void {
    if (!this.running || (this.timer && this.timer.at <= at)) return;
    if (this.timer) this.opts.clock.clearTimeout(this.timer.handle);
    const delay = at - this.opts.clock.now().getTime();
    this.timer = {
      at,
      handle: this.opts.clock.setTimeout(() => {
        this.timer = null;
        void this.poll();
      }, delay),
    };
  }

  private taskOf(spec: DagSpec, taskId: string): TaskSpec | undefined {
    let byId = this.tasks.get(spec);
    if (!byId) this.tasks.set(spec, (byId = new Map(spec.tasks.map((t) => [t.task_id, t]))));
    return byId.get(taskId);
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
