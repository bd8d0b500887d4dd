/** A dispatcher that holds every task it is handed running, as a slow agent would, until the test finishes them. */
import type { DagRunRecord, DagSpec, TaskInstanceRecord } from "../../src/domain";
import type { Store } from "../../src/store";

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
