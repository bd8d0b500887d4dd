/**
 * SchedulerHeartbeatStore: the scheduler leader's last sign of life, shared by every replica (Pro): a replica that
 * does not lead reports the cluster's scheduler from it on /monitor/health, so a frozen or gone leader shows.
 */
export interface SchedulerHeartbeatStore {
  /** The leader's heartbeat: `replica` names it (host, pid, URL); a later `at` only (a stale leader's write is ignored). */
  recordSchedulerHeartbeat(replica: string, at: Date): Promise<void>;
  /** The latest heartbeat any leader recorded, or null before one did. */
  latestSchedulerHeartbeat(): Promise<{ replica: string; at: Date } | null>;
}
