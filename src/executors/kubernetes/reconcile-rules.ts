/**
 * What the reconciler does with one task pod, decided from the pod's status and its task instance's, given
 * `now`. Pure: reconciler.ts watches, lists and acts.
 *
 * - A pod that failed (evicted, OOM-killed, deadline exceeded, non-zero exit, agent not installable) or
 *   ended while its try is still queued/running in the store: fail the try with the reason (its last log
 *   lines are kept by the caller).
 * - A pod stuck in image pull (or unable to start its container) past `pendingLimitMs` fails its try and is
 *   deleted; a pull that can never succeed (invalid name, pull policy Never) fails at once.
 * - A finished pod is deleted once `graceMs` has passed since it finished (time to read its logs).
 * - At start-up, pods whose try is over (or gone) are deleted at once, running or not.
 * - A pod still running a try that is over (marked failed, cleared, timed out) is deleted after the grace.
 *
 * @example reconcileDecision(podFacts(pod), ti, now, { graceMs: 60_000, pendingLimitMs: 300_000, startup: false })
 */
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { TaskState } from "../../domain";
import { LABEL } from "./settings";

export interface PodFacts {
  name: string;
  tiId: number | null;
  tryNumber: number;
  /** Pending | Running | Succeeded | Failed | Unknown */
  phase: string;
  /** The pod's own reason (Evicted, DeadlineExceeded) and message. */
  reason: string;
  message: string;
  deleting: boolean;
  createdAt: Date | null;
  finishedAt: Date | null;
  /** The first container (init or task) that is waiting with a reason, e.g. ImagePullBackOff. */
  waiting: { container: string; reason: string; message: string } | null;
  /** The first container (init or task) that terminated unsuccessfully, else the task container's end. */
  terminated: { container: string; exitCode: number; reason: string; message: string } | null;
}

export interface TaskInstanceFacts {
  state: TaskState;
  try_number: number;
  end_date: Date | null;
}

export interface ReconcileLimits {
  graceMs: number;
  pendingLimitMs: number;
  startup: boolean;
}

export type PodDecision =
  | { action: "keep" }
  | { action: "fail"; reason: string; delete: boolean; logContainer: string }
  | { action: "delete"; why: string };

const ACTIVE: ReadonlySet<TaskState> = new Set(["queued", "running"]);
/** Waiting reasons that mean the container will not start by itself soon. */
const STUCK = new Set([
  "ImagePullBackOff",
  "ErrImagePull",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "CrashLoopBackOff",
]);
/** Waiting reasons that will never resolve. */
const HOPELESS = new Set(["InvalidImageName", "ErrImageNeverPull"]);

export function reconcileDecision(pod: PodFacts, ti: TaskInstanceFacts | null, now: Date, limits: ReconcileLimits): PodDecision {
  const finished = pod.phase === "Succeeded" || pod.phase === "Failed";
  const tryIsLive = ti !== null && ti.try_number === pod.tryNumber && ACTIVE.has(ti.state);
  const aged = (since: Date | null, ms: number) => since === null || now.getTime() - since.getTime() >= ms;
  const logContainer = pod.terminated?.container ?? pod.waiting?.container ?? "task";

  if (tryIsLive) {
    if (pod.deleting) return { action: "keep" }; // being cancelled: the agent reports, or the reapers fail it
    if (finished) return { action: "fail", reason: podEndReason(pod), delete: false, logContainer };
    if (pod.waiting && (HOPELESS.has(pod.waiting.reason) || (STUCK.has(pod.waiting.reason) && aged(pod.createdAt, limits.pendingLimitMs))))
      return { action: "fail", reason: waitingReason(pod, limits.pendingLimitMs), delete: true, logContainer };
    return { action: "keep" };
  }
  if (pod.deleting) return { action: "keep" };
  const over =
    ti === null
      ? "its task instance no longer exists"
      : ti.try_number !== pod.tryNumber
        ? `its task instance moved on to try ${ti.try_number}`
        : `its task instance is ${ti.state}`;
  if (limits.startup) return { action: "delete", why: over };
  if (finished)
    return aged(pod.finishedAt, limits.graceMs)
      ? { action: "delete", why: `finished ${limits.graceMs / 1000}s ago and ${over}` }
      : { action: "keep" };
  // Still running a try that is over: its agent was told to stop by its heartbeat; give it the grace, then delete.
  return aged(ti?.end_date ?? null, limits.graceMs) ? { action: "delete", why: `${over} but the pod still runs` } : { action: "keep" };
}

/** Why a finished pod ended, for the task instance's note and log. */
export function podEndReason(pod: PodFacts): string {
  const t = pod.terminated;
  const detail = (m: string) => (m ? `: ${m.trim().slice(0, 300)}` : "");
  let reason: string;
  if (pod.reason === "Evicted") reason = `pod ${pod.name} was evicted${detail(pod.message)}`;
  else if (pod.reason === "DeadlineExceeded") reason = `pod ${pod.name} ran past its activeDeadlineSeconds and was stopped`;
  else if (t?.reason === "OOMKilled")
    reason = `pod ${pod.name}: container ${t.container} was OOM-killed (exit code ${t.exitCode}); raise resources.memory`;
  else if (t && t.container !== "task")
    reason = `pod ${pod.name}: init container ${t.container} failed with exit code ${t.exitCode}${detail(t.message || t.reason)}; the leoflow binary could not be installed (check --k8s-agent-image)`;
  else if (t && t.exitCode === 137)
    reason = `pod ${pod.name}: container ${t.container} exited with code 137: killed by SIGKILL (out of memory, or stopped from outside)`;
  else if (t)
    reason = `pod ${pod.name}: container ${t.container} exited with code ${t.exitCode}${t.reason && t.reason !== "Error" && t.reason !== "Completed" ? ` (${t.reason})` : ""}`;
  else reason = `pod ${pod.name} is ${pod.phase}${pod.reason ? ` (${pod.reason})` : ""}${detail(pod.message)}`;
  return `${reason} before the agent reported a final state`;
}

function waitingReason(pod: PodFacts, limitMs: number): string {
  const w = pod.waiting!;
  const how = HOPELESS.has(w.reason) ? "" : ` for more than ${limitMs / 1000}s`;
  const msg = w.message ? `: ${w.message.trim().slice(0, 300)}` : "";
  const fix = /Image|Pull/.test(w.reason) ? "; check the image name and that the cluster can pull it" : "";
  return `pod ${pod.name}: container ${w.container} could not start (${w.reason})${how}${msg}${fix}`;
}

/** The facts reconcileDecision reads, from a pod as the API server returns it. */
export function podFacts(pod: V1Pod): PodFacts {
  const labels = pod.metadata?.labels ?? {};
  const tiId = Number(labels[LABEL.tiId]);
  const statuses: V1ContainerStatus[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const waiting = statuses.find((s) => s.state?.waiting?.reason && s.state.waiting.reason !== "PodInitializing");
  const failed = statuses.find((s) => (s.state?.terminated?.exitCode ?? 0) !== 0);
  const ended = failed ?? statuses.find((s) => s.name === "task" && s.state?.terminated);
  const finishes = statuses
    .map((s) => s.state?.terminated?.finishedAt)
    .filter((d): d is Date => !!d)
    .map((d) => new Date(d));
  return {
    name: pod.metadata?.name ?? "",
    tiId: Number.isSafeInteger(tiId) && tiId > 0 ? tiId : null,
    tryNumber: Number(labels[LABEL.try] ?? 0),
    phase: pod.status?.phase ?? "Pending",
    reason: pod.status?.reason ?? "",
    message: pod.status?.message ?? "",
    deleting: !!pod.metadata?.deletionTimestamp,
    createdAt: pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp) : null,
    finishedAt: finishes.length ? new Date(Math.max(...finishes.map((d) => d.getTime()))) : null,
    waiting: waiting
      ? { container: waiting.name, reason: waiting.state!.waiting!.reason!, message: waiting.state!.waiting!.message ?? "" }
      : null,
    terminated: ended?.state?.terminated
      ? {
          container: ended.name,
          exitCode: ended.state.terminated.exitCode,
          reason: ended.state.terminated.reason ?? "",
          message: ended.state.terminated.message ?? "",
        }
      : null,
  };
}
