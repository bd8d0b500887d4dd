/**
 * The rules of inline http tasks (pure): which tasks run inline, the duration cap (at start and at DAG
 * load), how long a try may run, the state changes a try makes, and the XCom value of a response.
 * The HTTP retries of one call are inline-http.ts's; the task's own retries go through the planner.
 */
import type { DagRunRecord, DagSpec, TaskInstanceRecord, TaskSpec, TaskTransition } from "../domain";
import { taskOfSpec } from "../domain";
import type { HttpResult } from "./inline-http";

export const INLINE_EXECUTOR_NAME = "inline";
export const INLINE_HOSTNAME = "inline";

/** Whether the inline runner takes `task`: an http task, inline or unset mode, no other executor named. */
export function acceptsInline(task: Pick<TaskSpec, "operator" | "execution_mode" | "executor">): boolean {
  return (
    task.operator === "http" &&
    (task.execution_mode ?? "inline") === "inline" &&
    (task.executor === undefined || task.executor === INLINE_EXECUTOR_NAME)
  );
}

/** Why `task` may not run inline under a cap of `maxSeconds`, or null. Also used at DAG load. */
export function inlineDurationProblem(task: Pick<TaskSpec, "task_id" | "execution_timeout" | "http">, maxSeconds: number): string | null {
  const fix = `lower it or start the server with a larger --inline-max-seconds`;
  if (task.execution_timeout !== undefined && task.execution_timeout > maxSeconds)
    return `task ${task.task_id}: execution_timeout ${task.execution_timeout}s is over the inline task cap of ${maxSeconds}s; ${fix}`;
  const t = task.http?.timeout;
  if (t !== undefined && t > maxSeconds)
    return `task ${task.task_id}: http.timeout ${t}s is over the inline task cap of ${maxSeconds}s; ${fix}`;
  return null;
}

/**
 * The DAG-load check (DagFolderSync's `admit`): inline http tasks whose timeout is over the cap are refused
 * as import errors, so the author learns at load time rather than at the first run.
 */
export function admitInlineTasks(spec: DagSpec, maxSeconds: number): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  spec.tasks.forEach((t, i) => {
    if (!acceptsInline(t)) return;
    const problem = inlineDurationProblem(t, maxSeconds);
    if (problem) issues.push({ path: `tasks[${i}]`, message: problem });
  });
  return issues;
}

/** The http task `ti` runs, from the version its run was planned with. */
export function httpTaskOf(
  ti: Pick<TaskInstanceRecord, "task_id" | "dag_id">,
  run: Pick<DagRunRecord, "version_id">,
  spec: DagSpec,
): TaskSpec {
  const task = taskOfSpec(spec, ti.task_id);
  if (!task?.http) throw new Error(`task ${ti.task_id} is not an http task in version ${run.version_id} of DAG ${ti.dag_id}`);
  return task;
}

/** How long a try may run in all (its execution_timeout, never over the cap) and the reason it fails with past that. */
export function inlineDeadline(task: Pick<TaskSpec, "execution_timeout">, maxSeconds: number): { seconds: number; reason: string } {
  const seconds = Math.min(task.execution_timeout ?? maxSeconds, maxSeconds);
  const limit = task.execution_timeout !== undefined ? "execution_timeout" : "--inline-max-seconds";
  return { seconds, reason: `task timed out after ${seconds}s (${limit})` };
}

/** scheduled (or queued, the dispatcher's way) → running, on this server: no pid, no agent. */
export function startTransition(
  ti: Pick<TaskInstanceRecord, "id" | "try_number">,
  from: "scheduled" | "queued",
  now: Date,
): TaskTransition {
  return {
    id: ti.id,
    from: [from],
    to: "running",
    try_number: ti.try_number,
    patch: { start_date: now, last_heartbeat: now, hostname: INLINE_HOSTNAME, pid: null, executor: INLINE_EXECUTOR_NAME, note: null },
  };
}

/** The try's outcome; `note` is the reason a failed try shows (null on success). */
export function finishTransition(
  ti: Pick<TaskInstanceRecord, "id" | "try_number">,
  from: "scheduled" | "running",
  to: "success" | "failed" | "up_for_retry",
  note: string | null,
  now: Date,
): TaskTransition {
  return { id: ti.id, from: [from], to, try_number: ti.try_number, patch: { end_date: now, note } };
}

/** The response body as an XCom value: parsed JSON when the response says JSON, else the text; none when empty. */
export function responseValue(res: Pick<HttpResult, "body" | "contentType">): { value: unknown; kind: "json" | "text" } | null {
  if (res.body === "") return null;
  if (/\bjson\b|\+json/i.test(res.contentType)) {
    try {
      return { value: JSON.parse(res.body), kind: "json" };
    } catch {
      // Mislabelled JSON is still worth keeping; the caller logs that it went in as text.
    }
  }
  return { value: res.body, kind: "text" };
}

/** The pause before the next try of a failed outcome write: 0.5 s, 1 s, 2 s …; null once `attempt` writes failed. */
export function outcomeRetryDelayMs(attempt: number, attempts: number): number | null {
  return attempt >= attempts ? null : 500 * 2 ** (attempt - 1);
}
