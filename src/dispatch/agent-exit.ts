/**
 * An agent that exits without having reported a final state crashed (killed, out of memory, a bug): its try
 * is failed with the reason, so the task retries or fails instead of waiting for the agent-lost reaper.
 * A try the agent did report is past queued/running, and the conditional write changes nothing; one whose
 * report the agent saw answered (a warm agent's `done`: AgentExit.reported) is not even read, which spares
 * every try of a warm agent two statements.
 *
 * @example
 * new SubprocessExecutor({ …, onAgentExit: (exit) => void failIfUnreported(store, exit, log, (id) => loop.wake(id)) });
 */
import type { Store } from "../store";
import type { Logger } from "../observability";
import { failLiveTry, type AgentExit } from "../executors";
import { toError } from "../domain";

export async function failIfUnreported(
  store: Pick<Store, "getTaskInstanceById" | "applyTransitions">,
  exit: AgentExit,
  log: Logger,
  wake: (runId: number) => void,
): Promise<void> {
  if (exit.reported) return;
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
  const note = `agent ${how} before reporting a final state`;
  const now = new Date();
  try {
    const ti = await store.getTaskInstanceById(exit.taskInstanceId);
    if (!ti) return;
    await failLiveTry(store, ti, exit.tryNumber, note, now, { logger: log, onFailed: wake });
  } catch (e) {
    log.error("could not record an agent's exit", { error: toError(e) });
  }
}
