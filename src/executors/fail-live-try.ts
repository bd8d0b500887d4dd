/**
 * Failing a try that is still live (queued or running) with the reason it died: what the docker and
 * kubernetes reconcilers do for a dead container or pod, and the subprocess executor's agent-exit hook for
 * an agent that exited without reporting. The write is conditional on the try and its state, so a try that
 * reported, was reaped or moved on meanwhile is left as it is.
 */
import { failedTryState, type TaskInstanceRecord, type TaskTransition } from "../domain";
import type { Logger } from "../observability";

export interface FailLiveTryPort {
  applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]>;
}

/**
 * Fails try `tryNumber` of `ti` with `reason` as its note; on success logs it (with `where`: the container,
 * pod…) and tells `onFailed` the run, so the scheduler plans it now. Returns whether the try was failed.
 */
export async function failLiveTry(
  store: FailLiveTryPort,
  ti: TaskInstanceRecord,
  tryNumber: number,
  reason: string,
  now: Date,
  log: { logger: Logger; where?: Record<string, string>; onFailed?: (dagRunId: number) => void },
): Promise<boolean> {
  const [applied] = await store.applyTransitions(
    [
      {
        id: ti.id,
        from: ["queued", "running"],
        to: failedTryState({ try_number: tryNumber, max_tries: ti.max_tries }),
        try_number: tryNumber,
        patch: { end_date: now, note: reason },
      },
    ],
    now,
  );
  if (!applied) return false;
  log.logger.warn(`task failed: ${reason}`, {
    dag_id: ti.dag_id,
    run_id: ti.run_id,
    task_id: ti.task_id,
    try_number: tryNumber,
    ...log.where,
  });
  log.onFailed?.(ti.dag_run_id);
  return true;
}
