/**
 * Reaper decisions, pure. The reapers are a backstop, not a clock arbiter: whenever the evidence is thin
 * (no timestamp) or odd (a timestamp in the future, i.e. clock skew) they leave things alone — "do no
 * harm" — except for orphaned runs, where no activity at all is itself the evidence.
 */

/**
 * Whether a running task instance's agent has been silent for longer than `thresholdMs`.
 * Never heartbeated (null) → alive: the task may be inline (no agent) or inside its first interval.
 */
export function isAgentLost(c: { lastHeartbeat: Date | null }, thresholdMs: number, now: Date): boolean {
  return quietLongerThan(c.lastHeartbeat, thresholdMs, now);
}

/**
 * Whether a queued task instance has waited for its executor longer than `thresholdMs` (e.g. the scheduler
 * crashed between queueing and dispatching). No queued_at (null) → alive: too poorly observed to reap.
 */
export function isDispatchLost(c: { queuedAt: Date | null }, thresholdMs: number, now: Date): boolean {
  return quietLongerThan(c.queuedAt, thresholdMs, now);
}

/**
 * Whether a running dag run has shown no activity (its start, or any task instance's start or end) for
 * longer than `thresholdMs`. No activity recorded at all (null) → orphaned: nothing is touching it.
 */
export function isOrphaned(c: { lastActivity: Date | null }, thresholdMs: number, now: Date): boolean {
  if (c.lastActivity === null) return true;
  return quietLongerThan(c.lastActivity, thresholdMs, now);
}

/** True only for a known, past timestamp strictly more than `thresholdMs` before `now`. */
function quietLongerThan(at: Date | null, thresholdMs: number, now: Date): boolean {
  if (at === null || Number.isNaN(at.getTime())) return false;
  const gap = now.getTime() - at.getTime();
  return gap >= 0 && gap > thresholdMs;
}

/** The longest a reaper waits between its reads: a lost agent is noticed at most this late past its threshold. */
export const MAX_REAP_EVERY_MS = 10_000;

/**
 * Whether the reapers read again at `now`, having last read at `lastAt` (null: never). Every `everyMs` rather
 * than on every sweep (once a second): their reads visit every running and queued task instance and every
 * running run (~45 ms at 10,000 running runs on SQLite), for thresholds of a minute and more. A clock that
 * went back reads at once.
 */
export function reapDue(lastAt: number | null, everyMs: number, now: Date): boolean {
  if (lastAt === null) return true;
  const gap = now.getTime() - lastAt;
  return gap < 0 || gap >= everyMs;
}

/** How often the reapers read: a sixth of the shortest threshold, at most MAX_REAP_EVERY_MS (10 s for the defaults). */
export function reapEveryMs(t: { agentLostAfterMs: number; dispatchLostAfterMs: number; orphanAfterMs: number }): number {
  return Math.min(MAX_REAP_EVERY_MS, Math.min(t.agentLostAfterMs, t.dispatchLostAfterMs, t.orphanAfterMs) / 6);
}
