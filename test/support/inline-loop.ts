/** A scheduler loop and an inline runner over one store, wired to each other the way app.ts wires them. */
import { InlineHttpExecutor, InlineRunner } from "../../src/executors";
import { silentLogger } from "../../src/observability";
import { SchedulerLoop } from "../../src/scheduler/loop";
import type { Store } from "../../src/store";

export interface InlineLoopOptions {
  /** Inline tasks running at once (the runner's limit). */
  concurrency: number;
  /** The loop's parallelism. */
  parallelism: number;
  /** Hand a freed inline slot straight to a waiting task (the runner's `slots` hook, scheduler/refill.ts), as the server does. */
  refill?: boolean;
}

/** The runner wakes the loop when a task ends; http retries do not sleep; the sweep is a minute away (ticks come from wake-ups). */
export function inlineLoop(store: Store, opts: InlineLoopOptions): { loop: SchedulerLoop; runner: InlineRunner } {
  let loop: SchedulerLoop | undefined;
  const runner = new InlineRunner({
    store,
    logger: silentLogger,
    concurrency: opts.concurrency,
    maxSeconds: 60,
    wake: (id) => loop?.wake(id),
    ...(opts.refill
      ? {
          slots: {
            ending: (ti, spec) => loop?.inlineSlots.ending(ti, spec),
            successor: (ti, succeeded) => loop?.inlineSlots.successor(ti, succeeded),
            freed: (ti, ended, succeeded, handed) => loop?.inlineSlots.freed(ti, ended, succeeded, handed),
          },
        }
      : {}),
    http: new InlineHttpExecutor({ sleep: async () => {} }),
  });
  loop = new SchedulerLoop({
    store,
    dispatcher: { dispatch: async () => {} },
    logger: silentLogger,
    sweepIntervalMs: 60_000,
    parallelism: opts.parallelism,
    inline: runner,
  });
  return { loop, runner };
}
