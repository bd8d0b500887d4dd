/**
 * Dispatch retries and dead-letters. A launch that failed (executor refused, binary missing, API error) is
 * not the task's fault, so it does not spend the task's own retries: the task instance goes back to
 * `scheduled` on the same try and is launched again after 5 s, 10 s, 20 s … (base doubling), up to
 * `maxAttempts` launches. The last failure dead-letters it: failed with `dispatch_failed: <last error>`,
 * a line in the try's log, an error log line, a counter and a `task_instance.dead_lettered` event.
 * The attempt count and the next launch time are stored, so a restart neither resets nor hurries them.
 * A try its team's executor policy forbids (ExecutorPolicyViolation) is no launch failure: no retry can
 * change it, so it fails at once with the violation as its note and in its log.
 *
 * @example
 * const policy = new DispatchRetryPolicy({ store, logger, maxAttempts: 3, baseMs: 5000, wake: (id) => loop.wake(id) });
 * new SchedulerLoop({ …, onDispatchFailure: policy.onDispatchFailure, dispatchGate: policy });
 */
import type { TaskInstanceRecord } from "../domain";
import type { DispatchStore } from "../store";
import type { Counter, Logger } from "../observability";
import type { EventSink } from "../events";
import { toError } from "../domain";
import { ExecutorPolicyViolation } from "./policy-violation";

export interface DispatchRetryOptions {
  /** Launches allowed per try, the first included (default 3). */
  maxAttempts: number;
  /** Delay after the first failed launch; each further failure doubles it (default 5000). */
  baseMs: number;
}

export const DEFAULT_DISPATCH_RETRY: DispatchRetryOptions = { maxAttempts: 3, baseMs: 5000 };

/** Delay after `failedAttempts` failed launches: base, 2·base, 4·base, …  Pure. */
export function dispatchBackoffMs(failedAttempts: number, baseMs: number): number {
  if (failedAttempts < 1) return 0;
  return baseMs * 2 ** (failedAttempts - 1);
}

export type DispatchFailureDecision =
  | { kind: "retry"; attempt: number; nextAt: Date; note: string }
  | { kind: "dead_letter"; attempt: number; note: string };

/**
 * What to do after launch number `attempt` (1-based) failed with `error`. Pure.
 *
 * @example decideDispatchFailure(1, "spawn ENOENT", { maxAttempts: 3, baseMs: 5000 }, now)
 * // { kind: "retry", attempt: 1, nextAt: now+5s, note: "dispatch attempt 1/3 failed: spawn ENOENT; next at …" }
 */
export function decideDispatchFailure(attempt: number, error: string, opts: DispatchRetryOptions, now: Date): DispatchFailureDecision {
  if (attempt >= opts.maxAttempts) return { kind: "dead_letter", attempt, note: `dispatch_failed: ${error}` };
  const nextAt = new Date(now.getTime() + dispatchBackoffMs(attempt, opts.baseMs));
  return {
    kind: "retry",
    attempt,
    nextAt,
    note: `dispatch attempt ${attempt}/${opts.maxAttempts} failed: ${error}; next at ${nextAt.toISOString()}`,
  };
}

/** Task instances (by id) whose next launch must wait: the try it applies to and until when. */
export type HeldDispatches = Map<number, { try_number: number; until: Date }>;

export interface DispatchRetryDeps extends DispatchRetryOptions {
  store: DispatchStore;
  logger: Logger;
  /** Plans the run again now (the loop then holds the launch until its time and arms a wake-up). */
  wake: (dagRunId: number) => void;
  events?: EventSink;
  /** Counted with label outcome = retry | dead_letter. */
  failures?: Counter;
}

/**
 * How long held launches read from the store are trusted. Launches this policy backs off are known at once;
 * the read catches those another replica backed off (a leader's last launches failing after it stepped down).
 */
export const HELD_REFRESH_MS = 1000;

export class DispatchRetryPolicy {
  /** Held launches as last read from the store, and when; null: read them on the next heldUntil. */
  private stored: { at: number; held: HeldDispatches } | null = null;
  /** Launches this policy backed off (or launched again) since: they override what was read. */
  private readonly own: HeldDispatches = new Map();

  constructor(private readonly deps: DispatchRetryDeps) {}

  /** The SchedulerLoop's onDispatchFailure hook. */
  readonly onDispatchFailure = async (ti: TaskInstanceRecord, error: Error, now: Date): Promise<void> => {
    if (error instanceof ExecutorPolicyViolation) return this.refuse(ti, error, now);
    const { store, logger } = this.deps;
    const message = error.message || String(error);
    const attempt = await store.recordDispatchFailure(ti.id, ti.try_number, message, now);
    this.own.set(ti.id, { try_number: ti.try_number, until: now }); // recorded with no next launch time: not held
    const decision = decideDispatchFailure(attempt, message, this.deps, now);
    const where = {
      dag_id: ti.dag_id,
      run_id: ti.run_id,
      task_id: ti.task_id,
      try_number: ti.try_number,
      attempt,
      max_attempts: this.deps.maxAttempts,
    };
    this.deps.failures?.inc({ outcome: decision.kind });
    if (decision.kind === "retry") {
      logger.warn("dispatch failed; will retry", { ...where, next_at: decision.nextAt.toISOString(), error: message });
      await store.deferDispatch(ti.id, ti.try_number, decision.nextAt, decision.note, now);
      this.own.set(ti.id, { try_number: ti.try_number, until: decision.nextAt });
    } else {
      logger.error("dispatch failed on every attempt; task instance dead-lettered", { ...where, error: message });
      const [failed] = await store.applyTransitions(
        [
          {
            id: ti.id,
            from: ["queued", "scheduled"],
            to: "failed",
            try_number: ti.try_number,
            patch: { end_date: now, note: decision.note },
          },
        ],
        now,
      );
      if (failed) {
        await this.appendLogLines(ti, now, [`leoflow: ${decision.note} (after ${attempt} launch attempt${attempt === 1 ? "" : "s"})`]);
        this.deps.events?.emit({
          type: "task_instance.dead_lettered",
          team: ti.team,
          dag_id: ti.dag_id,
          run_id: ti.run_id,
          task_id: ti.task_id,
          try_number: ti.try_number,
          attempts: attempt,
          error: message,
          time: now.toISOString(),
        });
      }
    }
    this.deps.wake(ti.dag_run_id);
  };

  /**
   * The SchedulerLoop's dispatch gate: launches still backing off. This policy writes every back-off, so it
   * reads the store only once a second (and after reset()), not on every tick: an inline hop's tick is one
   * statement lighter. One indexed read, usually empty.
   */
  async heldUntil(now: Date): Promise<HeldDispatches> {
    const t = now.getTime();
    if (!this.stored || t - this.stored.at >= HELD_REFRESH_MS || t < this.stored.at) {
      const read: HeldDispatches = new Map();
      for (const b of await this.deps.store.listDispatchBackoffs(now)) read.set(b.ti_id, { try_number: b.try_number, until: b.next_at });
      this.stored = { at: t, held: read };
    }
    const held: HeldDispatches = new Map();
    for (const [id, h] of this.stored.held) if (h.until.getTime() > t) held.set(id, h);
    for (const [id, h] of this.own)
      if (h.until.getTime() > t) held.set(id, h);
      else held.delete(id), this.own.delete(id);
    return held;
  }

  /** Reads the store again on the next heldUntil (a new term of leadership: another replica may have backed launches off). */
  reset(): void {
    this.stored = null;
    this.own.clear();
  }

  /** Fails the try that its team's policy forbids, on the first launch: a line per violation in its log. */
  private async refuse(ti: TaskInstanceRecord, violation: ExecutorPolicyViolation, now: Date): Promise<void> {
    const where = { team: ti.team, dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id, try_number: ti.try_number };
    this.deps.logger.warn("the team's executor policy forbids this try; not launched", { ...where, violations: violation.violations });
    this.deps.failures?.inc({ outcome: "policy_violation" });
    const [failed] = await this.deps.store.applyTransitions(
      [
        {
          id: ti.id,
          from: ["queued", "scheduled"],
          to: "failed",
          try_number: ti.try_number,
          // No task retry can change what the team may run: this try is the last (a clear starts afresh).
          patch: { end_date: now, note: violation.note, max_tries: ti.try_number - 1 },
        },
      ],
      now,
    );
    if (failed)
      await this.appendLogLines(
        ti,
        now,
        violation.violations.map((v) => `leoflow: not launched: the executor policy of team ${violation.team} forbids it: ${v}`),
      );
    this.deps.wake(ti.dag_run_id);
  }

  /** The try never ran, so its log is ours: lines after whatever is there explain the failure. */
  private async appendLogLines(ti: TaskInstanceRecord, now: Date, text: string[]): Promise<void> {
    try {
      const lines = await this.deps.store.readLogs(ti.id, ti.try_number);
      const seq = lines.length ? lines[lines.length - 1]!.seq + 1 : 0;
      await this.deps.store.appendLogs(
        ti.id,
        ti.try_number,
        seq,
        text.map((line) => ({ timestamp: now, stream: "stderr", line })),
      );
    } catch (e) {
      this.deps.logger.warn("could not write why the try was not launched to its log", { task_id: ti.task_id, error: toError(e) });
    }
  }
}
