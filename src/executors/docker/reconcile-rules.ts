/**
 * What the reconciler does with one task container, decided from the container's state and its task
 * instance's, given `now`. Pure: the I/O shell (reconciler.ts) lists, inspects and acts.
 *
 * - A container that stopped while its try is still queued/running in the store exited without the agent
 *   reporting (OOM-killed, broken entrypoint, agent crash): fail the try with the reason, keep its last logs.
 * - A finished container is removed once `graceMs` has passed since it finished (time to read its logs).
 * - At start-up, containers whose try is already over (or gone) are removed at once, running or not.
 * - A container still running a try that is over (marked failed, cleared, timed out) is stopped after the grace.
 *
 * @example decideContainer({ container, ti, now, graceMs: 60_000, startup: false })
 */
import type { TaskState } from "../../domain";
import { formatBytes } from "./quantities";

export interface ContainerFacts {
  /** created | running | paused | restarting | exited | dead (Docker's State.Status). */
  status: string;
  exitCode: number;
  oomKilled: boolean;
  /** The engine's own error (e.g. the entrypoint could not be executed). */
  error: string;
  finishedAt: Date | null;
  tryNumber: number;
  /** HostConfig.Memory, bytes; 0 when unlimited. */
  memoryLimit: number;
}

export interface TaskInstanceFacts {
  state: TaskState;
  try_number: number;
  end_date: Date | null;
}

export type ContainerDecision =
  | { action: "keep" }
  | { action: "fail"; reason: string; remove: boolean }
  | { action: "remove"; stopFirst: boolean; why: string };

const ACTIVE: ReadonlySet<TaskState> = new Set(["queued", "running"]);
const STOPPED = new Set(["exited", "dead", "stopped"]);

export function decideContainer(input: {
  container: ContainerFacts;
  ti: TaskInstanceFacts | null;
  now: Date;
  graceMs: number;
  startup: boolean;
}): ContainerDecision {
  const { container: c, ti, now, graceMs, startup } = input;
  const stopped = STOPPED.has(c.status);
  const tryIsLive = ti !== null && ti.try_number === c.tryNumber && ACTIVE.has(ti.state);
  const aged = (since: Date | null) => since === null || now.getTime() - since.getTime() >= graceMs;

  if (tryIsLive) {
    if (!stopped) return { action: "keep" };
    return { action: "fail", reason: exitReason(c), remove: aged(c.finishedAt) };
  }
  const over =
    ti === null
      ? "its task instance no longer exists"
      : ti.try_number !== c.tryNumber
        ? `its task instance moved on to try ${ti.try_number}`
        : `its task instance is ${ti.state}`;
  if (startup) return { action: "remove", stopFirst: !stopped, why: over };
  if (stopped)
    return aged(c.finishedAt) ? { action: "remove", stopFirst: false, why: `finished ${graceMs / 1000}s ago` } : { action: "keep" };
  // Still running a try that is over: the agent was told to stop by its heartbeat; give it the grace, then stop it.
  return aged(ti?.end_date ?? null)
    ? { action: "remove", stopFirst: true, why: `${over} but the container still runs` }
    : { action: "keep" };
}

/** Why a container ended, for the task instance's note and log. */
export function exitReason(c: Pick<ContainerFacts, "exitCode" | "oomKilled" | "error" | "memoryLimit" | "status">): string {
  const limit = c.memoryLimit > 0 ? ` (memory limit ${formatBytes(c.memoryLimit)})` : "";
  let reason: string;
  if (c.oomKilled) reason = `container was OOM-killed${limit}`;
  else if (c.exitCode === 137)
    reason = `container exited with code 137: killed by SIGKILL (out of memory${limit}, or stopped from outside)`;
  else if (c.exitCode === 143) reason = "container exited with code 143: killed by SIGTERM";
  else if (c.status === "dead") reason = `container is dead (exit code ${c.exitCode})`;
  else reason = `container exited with code ${c.exitCode}`;
  if (c.error) reason += `: ${c.error}`;
  return `${reason} before the agent reported a final state`;
}

/**
 * A run's staging volume is reclaimed like the Kubernetes one: a successful run frees it at once, a failed
 * run keeps it for `ttlMs` after it ended (so a clear + re-run finds its data), an unknown run frees it.
 */
export function decideStagingVolume(
  run: { state: string; end_date: Date | null } | null,
  now: Date,
  ttlMs: number,
): { remove: boolean; why: string } {
  if (!run) return { remove: true, why: "its run no longer exists" };
  if (run.state === "success") return { remove: true, why: "its run succeeded" };
  if (run.state === "failed" && run.end_date && now.getTime() - run.end_date.getTime() >= ttlMs)
    return { remove: true, why: `its run failed more than ${ttlMs / 1000}s ago` };
  return { remove: false, why: "" };
}
