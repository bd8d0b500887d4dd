/**
 * The three reapers, run on sweeps (the loop's `Reaper` hook), at most every `everyMs` (reaper-rules.ts
 * reapEveryMs: 10 s for the default thresholds of 1, 5 and 10 minutes). Each reads its candidates from the
 * store, decides with a pure rule (reaper-rules.ts) and fails what it decided with a guarded write, so a
 * heartbeat, registration or report that lands in between turns the reap into a no-op:
 * - agent_lost: a running task instance whose agent heartbeated, then stayed silent past the threshold;
 *   it fails, and the planner retries it when the task has retries left.
 * - dispatch_lost: a queued task instance no agent registered for within the threshold (e.g. the server
 *   died between queueing and launching).
 * - orphaned: a running run with no active task instance and no activity past the threshold; the run and
 *   its never-started task instances fail.
 * Each reap is logged with its reason and counted (leoflow_reaped_total{reason}).
 *
 * @example new SchedulerLoop({ …, reaper: new Reapers({ store, logger, thresholds: DEFAULT_REAPER_THRESHOLDS }) })
 */
import { failedTryState, type ReapTaskCandidate } from "../domain";
import type { ReaperStore } from "../store";
import type { Counter, Logger } from "../observability";
import type { Reaper } from "./loop";
import { isAgentLost, isDispatchLost, isOrphaned, reapDue, reapEveryMs } from "./reaper-rules";

export interface ReaperThresholds {
  agentLostAfterMs: number;
  dispatchLostAfterMs: number;
  orphanAfterMs: number;
}

/** 60 s ≈ 12 heartbeats at the default 5 s interval; 5 min to register; 10 min of silence for a run. */
export const DEFAULT_REAPER_THRESHOLDS: ReaperThresholds = {
  agentLostAfterMs: 60_000,
  dispatchLostAfterMs: 300_000,
  orphanAfterMs: 600_000,
};

export type ReapReason = "agent_lost" | "dispatch_lost" | "orphaned";

export interface ReapersOptions {
  store: ReaperStore;
  logger: Logger;
  thresholds: ReaperThresholds;
  /** Counted with label reason. */
  reaped?: Counter;
  /**
   * Called for each task instance try it failed, so the executor stops what may still run of it (a silent
   * agent is not always a dead one): one try of a task instance runs at a time.
   */
  onTaskReaped?: (ti: { id: number; try_number: number }) => void;
  /** Least time between two reads (default reapEveryMs(thresholds)); 0 reads on every sweep. */
  everyMs?: number;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** The notes reaped task instances and runs carry; they start with the reason. Pure. */
export const reapNotes = {
  agentLost: (lastHeartbeat: Date, thresholdMs: number) =>
    `agent_lost: no heartbeat since ${lastHeartbeat.toISOString()} (threshold ${seconds(thresholdMs)}); the agent or its host is gone`,
  dispatchLost: (queuedAt: Date, thresholdMs: number) =>
    `dispatch_lost: queued at ${queuedAt.toISOString()} and no agent registered within ${seconds(thresholdMs)}`,
  orphaned: (lastActivity: Date | null, thresholdMs: number) =>
    `orphaned: no active task instance and no activity ${lastActivity ? `since ${lastActivity.toISOString()}` : "at all"} (threshold ${seconds(thresholdMs)})`,
};

export class Reapers implements Reaper {
  private readonly everyMs: number;
  /** When the reapers last read (epoch ms), or null before the first sweep. */
  private lastAt: number | null = null;
  /**
   * When this process began reaping (its first sweep, as leader in Pro). While no server ran, no agent could
   * heartbeat, register or report, so silence before it does not count: a try gets a full threshold after it
   * (an agent retries its calls for ~5 minutes, agent/backoff.ts), else every task still running through a
   * restart longer than the threshold failed as agent_lost within seconds of the server coming back.
   */
  private since: number | null = null;

  constructor(private readonly opts: ReapersOptions) {
    this.everyMs = opts.everyMs ?? reapEveryMs(opts.thresholds);
  }

  /** Runs all three when due (reapDue); returns the ids of runs it changed so the loop plans them in the same tick. */
  async reap(now: Date): Promise<number[]> {
    if (!reapDue(this.lastAt, this.everyMs, now)) return [];
    this.lastAt = now.getTime();
    this.since ??= now.getTime();
    const changed = new Set<number>();
    const { store, thresholds } = this.opts;
    const since = this.since;
    /** The later of `at` and this process's first sweep (null stays null: the rules' own case). */
    const sinceWatched = (at: Date | null) => (at === null || at.getTime() >= since ? at : new Date(since));

    const silent = (await store.listAgentLostCandidates()).filter((c) =>
      isAgentLost({ lastHeartbeat: sinceWatched(c.observed_at) }, thresholds.agentLostAfterMs, now),
    );
    await this.failTasks(
      "agent_lost",
      "running",
      silent,
      (c) => reapNotes.agentLost(c.observed_at!, thresholds.agentLostAfterMs),
      now,
      changed,
    );

    const unclaimed = (await store.listDispatchLostCandidates()).filter((c) =>
      isDispatchLost({ queuedAt: sinceWatched(c.observed_at) }, thresholds.dispatchLostAfterMs, now),
    );
    await this.failTasks(
      "dispatch_lost",
      "queued",
      unclaimed,
      (c) => reapNotes.dispatchLost(c.observed_at!, thresholds.dispatchLostAfterMs),
      now,
      changed,
    );

    for (const run of await store.listOrphanCandidates()) {
      if (!isOrphaned({ lastActivity: sinceWatched(run.last_activity) }, thresholds.orphanAfterMs, now)) continue;
      const note = reapNotes.orphaned(run.last_activity, thresholds.orphanAfterMs);
      if (!(await store.reapOrphanedRun(run.id, note, now))) continue;
      changed.add(run.id);
      this.opts.reaped?.inc({ reason: "orphaned" });
      this.opts.logger.warn("reaped an orphaned dag run", { reason: "orphaned", dag_id: run.dag_id, run_id: run.run_id, note });
    }
    return [...changed];
  }

  private async failTasks(
    reason: ReapReason,
    from: "running" | "queued",
    candidates: ReapTaskCandidate[],
    note: (c: ReapTaskCandidate) => string,
    now: Date,
    changed: Set<number>,
  ): Promise<void> {
    if (!candidates.length) return;
    const notes = candidates.map(note);
    const applied = await this.opts.store.reapTaskInstances(
      candidates.map((c, i) => ({
        id: c.id,
        try_number: c.try_number,
        from,
        observed_at: c.observed_at,
        to: failedTryState(c),
        note: notes[i]!,
      })),
      now,
    );
    candidates.forEach((c, i) => {
      if (!applied[i]) return;
      changed.add(c.dag_run_id);
      this.opts.reaped?.inc({ reason });
      this.opts.onTaskReaped?.({ id: c.id, try_number: c.try_number });
      this.opts.logger.warn(`reaped a task instance: ${reason}`, {
        reason,
        dag_id: c.dag_id,
        run_id: c.run_id,
        task_id: c.task_id,
        try_number: c.try_number,
        note: notes[i],
      });
    });
  }
}
