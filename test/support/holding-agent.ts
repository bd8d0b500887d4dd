/** A dispatcher that holds every task it is handed running, as a slow agent would, until the test finishes them. */
import type { DagRunRecord, DagSpec, TaskInstanceRecord } from "../../src/domain";
import { silentLogger } from "../../src/observability";
import { CronRunCreator, SchedulerLoop } from "../../src/scheduler";
import type { Store } from "../../src/store";
import type { StoreBackend } from "./stores";

export class HoldingAgent {
  /** The task_id of every task dispatched, in order. */
  seen: string[] = [];
  running: TaskInstanceRecord[] = [];
  constructor(private readonly store: Pick<Store, "applyTransitions">) {}
  async dispatch(ti: TaskInstanceRecord, _run: DagRunRecord, _spec: DagSpec): Promise<void> {
    this.seen.push(ti.task_id);
    await this.store.applyTransitions([{ id: ti.id, from: ["queued"], to: "running", try_number: ti.try_number }], new Date());
    this.running.push(ti);
  }
  /** Reports every held task as finished. */
  async finishAll(state: "success" | "failed" = "success"): Promise<void> {
    for (const ti of this.running.splice(0))
      await this.store.applyTransitions([{ id: ti.id, from: ["running"], to: state, try_number: ti.try_number }], new Date());
  }
}

/**
 * The scheduling tests' set-up: a migrated store of `backend`, a HoldingAgent and a scheduler loop on the test's clock
 * (`now`), with cron run creation when `cron` is set. The caller stops the loop and closes the store.
 */
export async function holdingLoop(
  backend: StoreBackend,
  now: () => Date,
  opts: { cron?: boolean } = {},
): Promise<{ store: Store; agent: HoldingAgent; loop: SchedulerLoop }> {
  const store = await backend.open();
  await store.migrate();
  const agent = new HoldingAgent(store);
  const loop = new SchedulerLoop({
    store,
    dispatcher: agent,
    logger: silentLogger,
    sweepIntervalMs: 60_000,
    parallelism: 64,
    now,
    ...(opts.cron ? { runCreator: new CronRunCreator({ store, logger: silentLogger }) } : {}),
  });
  return { store, agent, loop };
}
