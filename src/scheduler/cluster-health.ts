/**
 * The scheduler's health as a Pro replica that does not lead reports it: from the leader's heartbeat in the store
 * (SchedulerHeartbeatStore), which the leader writes every HEARTBEAT_EVERY_MS with its loop's last tick. A follower
 * said "healthy" with no heartbeat at all, so a frozen leader (its lock kept alive by the kernel) stalled the
 * cluster unseen; as Airflow's API servers read the scheduler job's heartbeat from the database, a stale or absent
 * one is unhealthy now. ClusterHealth keeps the reads and writes; clusterSchedulerHealth decides, pure.
 */
import type { Logger } from "../observability";
import type { SchedulerHeartbeatStore } from "../store";

export type SchedulerHealth = { status: "healthy" | "unhealthy"; latest_scheduler_heartbeat: string | null };

/** How often the leader writes its heartbeat, and a follower reads it. */
export const HEARTBEAT_EVERY_MS = 5_000;

/**
 * `staleMs`: how old the leader's last tick may be (its own threshold, scheduler/loop.ts health) plus a write's and
 * a read's interval, since a follower sees it that late. Pure.
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
  private beat: { at: Date } | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly o: ClusterHealthOptions) {}

  /** The leader reports its own loop; a follower the leader's heartbeat as last read. */
  health(): SchedulerHealth {
    if (this.o.leading()) return this.o.local();
    const now = this.o.now?.() ?? new Date();
    return clusterSchedulerHealth(this.beat, now, this.o.loopStaleMs + 2 * HEARTBEAT_EVERY_MS);
  }

  start(): void {
    void this.step();
    this.timer = setInterval(() => void this.step(), HEARTBEAT_EVERY_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Leading: writes the loop's last tick; else reads the leader's. A store that fails is tried again next time. */
  async step(): Promise<void> {
    try {
      if (this.o.leading()) {
        const last = this.o.local().latest_scheduler_heartbeat;
        if (last) await this.o.store.recordSchedulerHeartbeat(this.o.replica, new Date(last));
      } else this.beat = await this.o.store.latestSchedulerHeartbeat();
    } catch (e) {
      this.o.logger.warn("the scheduler's shared heartbeat could not be written or read; retrying", { error: e });
    }
  }
}
