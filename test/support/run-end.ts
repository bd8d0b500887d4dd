/** Waiting for a run to end through the store itself (tests that drive a loop in-process, no server). */
import type { DagRunRecord } from "../../src/domain";
import type { Store } from "../../src/store";

/** The run once it is success or failed, polling every `stepMs` (2,000 polls at most, then throws). */
export async function untilRunEnds(store: Pick<Store, "getDagRunById">, runId: number, stepMs = 10): Promise<DagRunRecord> {
  for (let i = 0; i < 2_000; i++) {
    const r = (await store.getDagRunById(runId))!;
    if (r.state === "success" || r.state === "failed") return r;
    await Bun.sleep(stepMs);
  }
  throw new Error("the run did not end");
}
