/**
 * The loop's turns of creating due runs (the DueRunCreator), one at a time: two at once would compute the
 * same slots and race to insert them. A cron slot's turn is taken the moment the slot is due, beside the
 * tick in flight rather than after it (a tick planning hundreds of runs would make every scheduled run of
 * the slot that much late); sweeps take theirs inside the tick, as the backstop. The latest turn asked for arms the
 * timer for the next slot.
 */
import { toError } from "../domain";
import type { Logger } from "../observability";
import type { Clock } from "./clock";
import type { DueRunCreator } from "./loop";

export interface RunCreationOptions {
  creator?: DueRunCreator;
  clock: Clock;
  logger: Logger;
  /** Arms the timer for the next slot (epoch ms). */
  armAt: (at: number) => void;
}

export class RunCreation {
  private turn: Promise<number[]> | null = null;
  /** The time the latest turn looked at. */
  private lastNow = 0;
  /** Unknown until a turn says otherwise: then every run end may let a due run in. */
  private waitingForRoom = true;

  constructor(private readonly opts: RunCreationOptions) {}

  /** Whether a run's end may let a due run in under max_active_runs (the last turn left one waiting for room). */
  get wantsRunEnds(): boolean {
    return this.waitingForRoom;
  }

  get busy(): boolean {
    return this.turn !== null;
  }

  /**
   * Creates the runs due at `now`, or at the clock's time when this turn starts (after any turn in flight)
   * if `now` is absent or older than the previous turn's (a tick's time, taken before that turn: the slot
   * it would see as next is past, and arming the timer for it would take a needless turn at once).
   * Returns their ids, [] when there is no creator or the turn failed (logged; the next sweep retries).
   */
  create(now?: Date): Promise<number[]> {
    const previous = this.turn;
    const turn: Promise<number[]> = (async () => {
      await previous;
      const at = now && now.getTime() >= this.lastNow ? now : this.opts.clock.now();
      this.lastNow = at.getTime();
      return this.take(at, () => this.turn === turn);
    })();
    this.turn = turn;
    void turn.finally(() => {
      if (this.turn === turn) this.turn = null;
    });
    return turn;
  }

  /** Resolves once no turn is in flight. */
  async idle(): Promise<void> {
    while (this.turn) await this.turn;
  }

  /** One turn; `last`: no turn was asked for since this one (a later one arms the timer from its later time). */
  private async take(now: Date, last: () => boolean): Promise<number[]> {
    const { creator, logger, armAt } = this.opts;
    if (!creator) return [];
    try {
      const { created, nextDueAt, waitingForRoom } = await creator.createDueRuns(now);
      this.waitingForRoom = waitingForRoom ?? true;
      // Armed by a turn that began just before the slot and ended after it, the timer would fire at once
      // for a turn that finds nothing (the slot's own turn, already asked for, creates its runs).
      if (nextDueAt && last()) armAt(nextDueAt.getTime());
      return created;
    } catch (e) {
      logger.error("creating scheduled runs failed; planning goes on", { error: toError(e) });
      return [];
    }
  }
}
