/**
 * A line in the log of each try an operator's mark or clear took from its agent mid-run (running, or queued for
 * it), as Airflow's "State of this instance has been externally set to failed. Terminating instance.": the agent
 * learns at its next heartbeat and stops the task, and the lines it writes then are refused (the try is no
 * longer live), so without this line the log just stops. Best effort: the change itself is already stored.
 */
import { appendToTryLog, toError, type TaskInstanceRecord, type TryLogPort } from "../domain";
import type { Logger } from "../observability";

/** A change an operator made to a task instance: to what (`marked failed`, `cleared`), and whether it applied. */
export interface OperatorTaskChange {
  id: number;
  what: string;
  applied: boolean;
}

export async function logStoppedTries(
  deps: { store: TryLogPort; logger: Logger; now: () => Date },
  before: readonly TaskInstanceRecord[],
  changes: readonly OperatorTaskChange[],
  by: string | null,
): Promise<void> {
  const was = new Map(before.map((ti) => [ti.id, ti]));
  for (const c of changes) {
    const ti = was.get(c.id);
    if (!c.applied || !ti || (ti.state !== "running" && ti.state !== "queued")) continue;
    const line = `${c.what}${by ? ` by ${by}` : ""} through the API while this try was ${ti.state}: its agent is told to stop the task at its next heartbeat`;
    await appendToTryLog(deps.store, ti.id, ti.try_number, [{ timestamp: deps.now(), stream: "leoflow", line }]).catch((e) =>
      deps.logger.warn("writing why a try stopped into its log failed", { ti_id: ti.id, try_number: ti.try_number, error: toError(e) }),
    );
  }
}
