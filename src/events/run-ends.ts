/**
 * RunEnds: word that a run ended, for whoever waits on it in this process (GET …/dagRuns/{id}/wait). The store's
 * event wrapper calls ended() after every write that moves a run to a terminal state on this process; a waiter
 * wakes then instead of at its next interval. In Pro, follow() adds the runs other replicas end (the scheduler's
 * leader writes most run ends): while a wait is open and `when()` holds (this replica does not lead), RunEnds
 * subscribes to the event hub for `dag_run.finished`, which the event feed brings from the shared log as the
 * other replicas append (Postgres NOTIFY), and wakes that run's waiters too.
 *
 * @example
 * const runEnds = new RunEnds();
 * const store = withStoreEvents(raw, log, onError, observe, runEnds);
 * runEnds.follow(hub, () => !campaign.isLeader);
 * await runEnds.wait(run, 5_000); // ≤ 5 s, or as soon as the run's end is written here or (Pro) seen in the log
 */
import { runKey } from "../domain";
import type { EventHub, Subscription } from "./emitter";
import type { LeoflowEvent } from "./types";

/** A run as a waiter names it: its id, and the names its events carry. */
export interface WaitedRun {
  id: number;
  team: string;
  dag_id: string;
  run_id: string;
}

export class RunEnds {
  private readonly waiting = new Map<number, Set<() => void>>();
  /** The runs waited on, by their names (for events from the log, which carry no run id). */
  private readonly byName = new Map<string, number>();
  private remote: { hub: EventHub; when: () => boolean; sub: Subscription | null } | null = null;

  /** Pro: also wake waiters on the runs other replicas end, seen as `dag_run.finished` events on `hub`. */
  follow(hub: EventHub, when: () => boolean = () => true): void {
    this.remote = { hub, when, sub: null };
  }

  /** Resolves after `ms`, or as soon as run `run` ends (written here, or seen from another replica), whichever comes first. */
  wait(run: WaitedRun, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let waiters = this.waiting.get(run.id);
      if (!waiters) this.waiting.set(run.id, (waiters = new Set()));
      this.byName.set(runKey(run.team, run.dag_id, run.run_id), run.id);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (!waiters.size && this.waiting.get(run.id) === waiters) {
          this.waiting.delete(run.id);
          this.byName.delete(runKey(run.team, run.dag_id, run.run_id));
        }
        if (!this.waiting.size) this.unsubscribe();
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
      this.subscribe();
    });
  }

  /** Run `id` ended: every waiter on it wakes now. */
  ended(id: number): void {
    for (const done of [...(this.waiting.get(id) ?? [])]) done();
  }

  /** Runs with a waiter (tests, diagnostics). */
  get watched(): number {
    return this.waiting.size;
  }

  /** Whether the hub is subscribed for other replicas' run ends (tests). */
  get following(): boolean {
    return this.remote?.sub != null;
  }

  private subscribe(): void {
    const remote = this.remote;
    if (!remote || remote.sub || !remote.when()) return;
    const sub = remote.hub.subscribe({ filter: (e) => e.type === "dag_run.finished" });
    remote.sub = sub;
    void (async () => {
      for (let e: LeoflowEvent | null = await sub.next(); e; e = await sub.next()) {
        if (e.type !== "dag_run.finished") continue;
        const id = this.byName.get(runKey(e.team, e.dag_id, e.run_id));
        if (id !== undefined) this.ended(id);
      }
    })();
  }

  private unsubscribe(): void {
    if (!this.remote?.sub) return;
    this.remote.sub.close();
    this.remote.sub = null;
  }
}
