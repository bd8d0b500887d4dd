/**
 * The scheduler's health as a Pro replica that does not lead reports it: from the leader's heartbeat in the store
 * (SchedulerHeartbeatStore), which the leading loop writes on its ticks, at most every HEARTBEAT_EVERY_MS. A
 * follower said "healthy" with no heartbeat at all, so a frozen leader (its lock kept alive by the kernel) stalled
 * the cluster unseen; as Airflow's API servers read the scheduler job's heartbeat from the database, a follower
 * reads it at each health request, and a stale or absent one is unhealthy. clusterSchedulerHealth decides, pure.
 */
import type { Logger } from "../observability";
import type { SchedulerHeartbeatStore } from "../store";

export type SchedulerHealth = { status: "healthy" | "unhealthy"; latest_scheduler_heartbeat: string | null };

/** At most how often the leader writes its heartbeat (a tick writes it when the last write is this old). */
export const HEARTBEAT_EVERY_MS = 5_000;

/**
 * `staleMs`: how old the leader's last tick may be (its own threshold, scheduler/loop.ts health) plus a write's
 * interval, since the store holds it that late. Pure.
 *
 * @example clusterSchedulerHealth({ at: new Date(0) }, new Date(60_000), 20_000) // unhealthy, "1970-01-01T00:00:00.000Z"
 */
export function clusterSchedulerHealth(beat: { at: Date } | null, now: Date, staleMs: number): SchedulerHealth {
  if (!beat) return { status: "unhealthy", latest_scheduler_heartbeat: null };
  return {
    status: now.getTime() - beat.at.getTime() < staleMs ? "healthy" : "unhealthy",
    latest_scheduler_heartbeat: beat.at.toISOString(),
  };
}

export interface ClusterHealthOptions {
  store: SchedulerHeartbeatStore;
  /** This replica as the heartbeat names it (host, pid, URL). */
  replica: string;
  leading: () => boolean;
  /** The local loop's health: its last tick is the heartbeat written. */
  local: () => SchedulerHealth;
  /** The loop's own staleness threshold (ms). */
  loopStaleMs: number;
  now?: () => Date;
  logger: Pick<Logger, "warn">;
}

export class ClusterHealth {
  private lastWrite = -Infinity;
  /** The write in flight: a tick meanwhile writes nothing. */
  private writing: Promise<void> | null = null;

  constructor(private readonly o: ClusterHealthOptions) {}

  /** The leader reports its own loop; a follower the leader's heartbeat, read now. */
  async health(): Promise<SchedulerHealth> {
    if (this.o.leading()) return this.o.local();
    const beat = await this.o.store.latestSchedulerHeartbeat();
    return clusterSchedulerHealth(beat, this.o.now?.() ?? new Date(), this.o.loopStaleMs + HEARTBEAT_EVERY_MS);
  }

  /** A tick of the local loop: leading, it writes the tick as the heartbeat when the last write is old enough. */
  ticked(): void {
    const now = (this.o.now?.() ?? new Date()).getTime();
    if (this.writing || !this.o.leading() || now - this.lastWrite < HEARTBEAT_EVERY_MS) return;
    const last = this.o.local().latest_scheduler_heartbeat;
    if (!last) return;
    this.writing = this.o.store
      .recordSchedulerHeartbeat(this.o.replica, new Date(last))
      .then(
        () => void (this.lastWrite = now),
        (e) => this.o.logger.warn("the scheduler's shared heartbeat could not be written; the next tick tries again", { error: e }),
      )
      .finally(() => (this.writing = null));
  }

  /** Resolves once a write in flight is done (tests). */
  async settled(): Promise<void> {
    await this.writing;
  }
}
