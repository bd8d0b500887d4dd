/**
 * Leadership campaign: exactly one replica runs the scheduler loop. The decision core (`decideCampaign`) is
 * pure — it turns "what the lock said" into "what to do" — and `LeaderCampaign` is the thin shell that polls
 * a LeaderLock on a timer, starts the loop when it wins and stops it when the lock is lost.
 *
 * @example
 * const campaign = new LeaderCampaign({ lock: new PgLeaderLock(url), loop, logger, pollMs: 1000 });
 * campaign.start();   // follower → leader once the advisory lock is free
 */
import type { Logger } from "../observability";
import { errorMessage, toError } from "../domain";
import { decideTakeover, type LeaderWatch } from "./leader-takeover";

/** A lock only one replica can hold at a time (a Postgres advisory lock in Pro; a fake in tests). */
export interface LeaderLock {
  /** Takes the lock without blocking; false when another replica holds it. */
  tryAcquire(): Promise<boolean>;
  /** Whether this replica's session still holds the lock (false after its connection was replaced). */
  holdsLock(): Promise<boolean>;
  /** Frees the lock (best effort; a lost session has freed it already). */
  release(): Promise<void>;
  /** Closes the lock's connection, which frees the lock too. */
  close?(): Promise<void>;
  /**
   * The session holding the lock (its backend pid, name, and when it last ran a statement: the leader checks its lock
   * every pollMs), or null while free; needed to depose a frozen leader.
   */
  holderSession?(): Promise<{ pid: number; name: string; activeAt: number | null } | null>;
  /** Ends the holding session `pid` if it still holds the lock; true when it was ended. */
  terminateHolder?(pid: number): Promise<boolean>;
}

/** What the campaign starts and stops: the scheduler loop. */
export interface LeadershipTarget {
  start(): void;
  stop(): Promise<void>;
}

export type CampaignRole = "follower" | "leader";
export type StepDownReason = "lock_lost" | "check_failed" | "shutdown";

export interface CampaignState {
  role: CampaignRole;
  /** When this replica became leader (epoch ms), null while a follower. */
  leaderSince: number | null;
  /** When it last stepped down (epoch ms); null before the first step-down or once it leads again. */
  steppedDownAt: number | null;
}

/** What one look at the lock found. An error means the lock's connection could not answer. */
export type LockObservation =
  | { kind: "acquire"; acquired: boolean; error?: string }
  | { kind: "check"; held: boolean; error?: string }
  | { kind: "shutdown" };

export interface CampaignDecision {
  state: CampaignState;
  /** Start the loop (became leader) or stop it (stepped down); absent = nothing changes. */
  action?: "lead" | "step_down";
  reason?: StepDownReason;
  /** Time without leadership, set when leadership is regained after a step-down. */
  reacquiredAfterMs?: number;
  log?: { level: "info" | "warn" | "error"; message: string };
}

export const INITIAL_CAMPAIGN: CampaignState = { role: "follower", leaderSince: null, steppedDownAt: null };

/**
 * The campaign's state machine. A follower that acquires the lock leads; a leader whose check says the lock
 * is gone — or whose check failed, since a session that cannot answer may already have lost the lock —
 * steps down and becomes a follower again, remembering when, so the gap is measured on re-acquire.
 */
export function decideCampaign(state: CampaignState, seen: LockObservation, now: number): CampaignDecision {
  if (seen.kind === "shutdown") {
    if (state.role !== "leader") return { state };
    return {
      state: { role: "follower", leaderSince: null, steppedDownAt: null },
      action: "step_down",
      reason: "shutdown",
      log: { level: "info", message: "leadership released: shutting down" },
    };
  }
  if (state.role === "follower") {
    if (seen.kind !== "acquire") return { state };
    if (seen.error) return { state, log: { level: "warn", message: `could not campaign for leadership (${seen.error}); retrying` } };
    if (!seen.acquired) return { state };
    const reacquiredAfterMs = state.steppedDownAt === null ? undefined : Math.max(0, now - state.steppedDownAt);
    return {
      state: { role: "leader", leaderSince: now, steppedDownAt: null },
      action: "lead",
      reacquiredAfterMs,
      log: {
        level: "info",
        message:
          reacquiredAfterMs === undefined
            ? "became scheduler leader"
            : `became scheduler leader again after ${reacquiredAfterMs} ms without leadership`,
      },
    };
  }
  if (seen.kind !== "check") return { state };
  if (seen.held && !seen.error) return { state };
  const reason: StepDownReason = seen.error ? "check_failed" : "lock_lost";
  return {
    state: { role: "follower", leaderSince: null, steppedDownAt: now },
    action: "step_down",
    reason,
    log: {
      level: "warn",
      message: seen.error
        ? `stepping down: could not confirm the leader lock (${seen.error}); another replica may take over`
        : "stepping down: the leader lock is no longer held by this replica (its session was replaced)",
    },
  };
}

export interface LeaderCampaignOptions {
  lock: LeaderLock;
  loop: LeadershipTarget;
  logger: Logger;
  /** How often a follower tries to take the lock (ms). */
  pollMs: number;
  /** How often a leader confirms it still holds the lock between ticks (ms; default pollMs). */
  checkMs?: number;
  now?: () => number;
  /** Called after every change of role (wiring, metrics). */
  onRoleChange?: (role: CampaignRole) => void;
  /**
   * Deposing a frozen leader (leader-takeover.ts): a follower that sees the lock's holder, its lock session's last
   * statement and the leader's stored heartbeat all unchanged for `afterMs` (0: never) ends that session and takes the lock.
   */
  takeover?: { afterMs: number; heartbeat: () => Promise<{ replica: string; at: Date } | null> };
}

/** Counters an operator reads to see leader churn. */
export interface LeadershipStats {
  role: CampaignRole;
  leader_since: string | null;
  acquisitions: number;
  step_downs: Record<StepDownReason, number>;
  /** Time without leadership of the last step-down → re-acquire cycle (ms), null if none yet. */
  last_reacquire_ms: number | null;
}

export class LeaderCampaign {
  private state: CampaignState = INITIAL_CAMPAIGN;
  private timer: Timer | null = null;
  private running = false;
  private stepping: Promise<void> | null = null;
  /** A follower's watch on the leader it may depose (leader-takeover.ts). */
  private watch: LeaderWatch | null = null;
  private readonly now: () => number;
  private readonly counts = {
    acquisitions: 0,
    step_downs: { lock_lost: 0, check_failed: 0, shutdown: 0 } as Record<StepDownReason, number>,
    last_reacquire_ms: null as number | null,
  };

  constructor(private readonly opts: LeaderCampaignOptions) {
    this.now = opts.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.state.role === "leader";
  }

  /** Campaigns now and then every pollMs (as a follower) or checkMs (as the leader). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.cycle();
  }

  /** Stops campaigning; a leader stops its loop and frees the lock so another replica takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.step({ kind: "shutdown" });
    await this.opts.lock.release().catch(() => {});
    await this.opts.lock.close?.().catch(() => {});
  }

  /**
   * One look at the lock: a follower tries to take it, a leader confirms it still holds it. Public so tests
   * drive the campaign step by step without timers.
   */
  async step(seen?: LockObservation): Promise<void> {
    // One step at a time: a guard's step-down and the timer's check must not interleave.
    while (this.stepping) await this.stepping.catch(() => {});
    this.stepping = (async () => this.apply(decideCampaign(this.state, seen ?? (await this.observe()), this.now())))();
    try {
      await this.stepping;
    } finally {
      this.stepping = null;
    }
  }

  /**
   * The split-brain guard the loop runs before every tick: true while this replica still holds the lock.
   * On false it starts stepping down without waiting (the loop's stop() waits for the very tick asking).
   */
  async guard(): Promise<boolean> {
    if (!this.isLeader) return false;
    const seen = await this.check();
    if (seen.held && !seen.error) return true;
    void this.step(seen).catch((e) => this.opts.logger.error("stepping down failed", { error: toError(e) }));
    return false;
  }

  stats(): LeadershipStats {
    return {
      role: this.state.role,
      leader_since: this.state.leaderSince === null ? null : new Date(this.state.leaderSince).toISOString(),
      acquisitions: this.counts.acquisitions,
      step_downs: { ...this.counts.step_downs },
      last_reacquire_ms: this.counts.last_reacquire_ms,
    };
  }

  private async cycle(): Promise<void> {
    if (!this.running) return;
    try {
      await this.step();
    } catch (e) {
      this.opts.logger.error("leadership campaign step failed; retrying", { error: toError(e) });
    }
    if (!this.running) return;
    const wait = this.isLeader ? (this.opts.checkMs ?? this.opts.pollMs) : this.opts.pollMs;
    this.timer = setTimeout(() => void this.cycle(), wait);
  }

  private async observe(): Promise<LockObservation> {
    if (this.state.role === "leader") return this.check();
    try {
      if (await this.opts.lock.tryAcquire()) return { kind: "acquire", acquired: true };
      return { kind: "acquire", acquired: await this.deposeIfFrozen() };
    } catch (e) {
      return { kind: "acquire", acquired: false, error: errorMessage(e) };
    }
  }

  /**
   * A follower that could not take the lock: it times how long the holder's session and the leader's heartbeat have
   * stood still, and past the bound ends that session and takes the lock. True when this replica now holds it.
   */
  private async deposeIfFrozen(): Promise<boolean> {
    const { takeover, lock } = this.opts;
    if (!takeover || takeover.afterMs <= 0 || !lock.holderSession || !lock.terminateHolder) return false;
    const [holder, beat] = await Promise.all([lock.holderSession(), takeover.heartbeat()]);
    const seen = { pid: holder?.pid ?? null, beat: beat?.at.getTime() ?? null, activity: holder?.activeAt ?? null };
    const d = decideTakeover(this.watch, seen, this.now(), takeover.afterMs);
    this.watch = d.watch;
    if (!d.depose || !holder) return false;
    if (!(await lock.terminateHolder(holder.pid))) return false;
    this.opts.logger.warn("deposed a frozen scheduler leader: ended its lock session so that this replica takes over", {
      leader: beat?.replica ?? "unknown",
      session: `${holder.name || "a session"} (backend pid ${holder.pid})`,
      last_heartbeat: beat?.at.toISOString() ?? "none",
      reason: `its stored heartbeat and its lock session stood still for ${Math.round(d.silentMs / 1000)} s (--leader-takeover-after ${takeover.afterMs / 1000} s)`,
    });
    // The ended backend frees the lock as it exits, within moments; if it has not yet, the next poll (its watch kept)
    // ends it again and takes it.
    const acquired = await lock.tryAcquire();
    if (acquired) this.watch = null;
    return acquired;
  }

  private async check(): Promise<{ kind: "check"; held: boolean; error?: string }> {
    try {
      return { kind: "check", held: await this.opts.lock.holdsLock() };
    } catch (e) {
      return { kind: "check", held: false, error: errorMessage(e) };
    }
  }

  private async apply(d: CampaignDecision): Promise<void> {
    // A re-check that raced a step-down already applied sees the follower state and changes nothing.
    this.state = d.state;
    if (d.log) this.opts.logger[d.log.level](d.log.message, d.reason ? { reason: d.reason } : {});
    if (d.action === "lead") {
      this.counts.acquisitions++;
      if (d.reacquiredAfterMs !== undefined) this.counts.last_reacquire_ms = d.reacquiredAfterMs;
      this.opts.loop.start();
      this.opts.onRoleChange?.("leader");
    } else if (d.action === "step_down") {
      this.counts.step_downs[d.reason!]++;
      await this.opts.loop.stop();
      // Best effort: if the session still holds the lock (a check that merely failed), free it for others.
      if (d.reason !== "shutdown") await this.opts.lock.release().catch(() => {});
      this.opts.onRoleChange?.("follower");
    }
  }
}
