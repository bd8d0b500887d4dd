/**
 * Deposing a frozen leader (Pro). A leader stopped with SIGSTOP (or a paused VM) keeps its Postgres session, whose TCP
 * connection the kernel keeps alive, and so its advisory lock, forever: the cluster stalls. A follower that cannot take
 * the lock watches two signs of the leader's life: its stored heartbeat (written by its ticks, scheduler/cluster-health.ts)
 * and its lock session's last statement (pg_stat_activity.state_change: a live leader checks its lock every
 * --leader-poll, between and during ticks, so a long tick or a slow sweep keeps this one moving). When the same
 * session has held the lock while both stood still for --leader-takeover-after, the follower ends that session
 * (pg_terminate_backend), which frees the lock, and takes it. The time is the follower's own: it measures how long IT
 * saw nothing change, so clocks that disagree between hosts, a heartbeat row left by a leader long gone, or a leader
 * that has just taken the lock and not yet ticked never count as silence. `decideTakeover` is pure.
 *
 * @example
 * let w = decideTakeover(null, { pid: 41, beat: 1000, activity: 5 }, 0, 30_000);       // watching pid 41
 * w = decideTakeover(w.watch, { pid: 41, beat: 1000, activity: 5 }, 30_000, 30_000);   // w.depose === true
 */

/**
 * What a follower saw of the leader: the lock holder's backend pid (null: the lock is free), its stored heartbeat and
 * its lock session's last statement (ms, or null when unknown). Only whether they change matters, never their clock.
 */
export interface LeaderSighting {
  pid: number | null;
  beat: number | null;
  activity: number | null;
}

/** The sighting a follower is timing: since when (its own clock, ms) it has not changed. */
export interface LeaderWatch {
  pid: number;
  beat: number | null;
  activity: number | null;
  since: number;
}

export interface TakeoverDecision {
  watch: LeaderWatch | null;
  /** End the holder's session and take the lock. */
  depose: boolean;
  /** How long the holder has been seen silent (ms). */
  silentMs: number;
}

/**
 * The follower's next watch, and whether to depose. A new holder, or a heartbeat or lock statement that moved,
 * restarts the clock; a free lock clears it. `afterMs` 0 never deposes.
 */
export function decideTakeover(watch: LeaderWatch | null, seen: LeaderSighting, now: number, afterMs: number): TakeoverDecision {
  if (seen.pid === null) return { watch: null, depose: false, silentMs: 0 };
  if (!watch || watch.pid !== seen.pid || watch.beat !== seen.beat || watch.activity !== seen.activity)
    return { watch: { pid: seen.pid, beat: seen.beat, activity: seen.activity, since: now }, depose: false, silentMs: 0 };
  const silentMs = Math.max(0, now - watch.since);
  return { watch, depose: afterMs > 0 && silentMs >= afterMs, silentMs };
}
