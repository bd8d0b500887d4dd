/** Puts a run's task instances into given states along legal paths, as the scheduler and agents would. */
import type { TaskState } from "../../../src/domain";
import type { Harness } from "./harness";

const PATH: TaskState[] = ["none", "scheduled", "queued", "running"];

export async function setStates(
  h: Harness,
  dagId: string,
  runId: string,
  want: Record<string, TaskState | { state: TaskState; hostname?: string }>,
) {
  const now = new Date("2026-03-01T12:00:00Z");
  const tis = (await h.store.listTaskInstances("default", dagId, runId)).items;
  for (const [taskId, w] of Object.entries(want)) {
    const target = typeof w === "string" ? w : w.state;
    const ti = tis.find((t) => t.task_id === taskId)!;
    const steps = PATH.includes(target) ? PATH.slice(1, PATH.indexOf(target) + 1) : [...PATH.slice(1), target];
    let from: TaskState = ti.state;
    for (const to of steps) {
      const patch =
        to === "running"
          ? { start_date: now, hostname: typeof w === "string" ? "worker-1" : (w.hostname ?? "worker-1") }
          : to === target
            ? { end_date: now }
            : {};
      const [ok] = await h.store.applyTransitions([{ id: ti.id, from: [from], to, patch }], now);
      if (!ok) throw new Error(`could not move ${taskId} ${from} -> ${to}`);
      from = to;
    }
  }
}

/** Triggers a run of `dagId` (logical date optional) and returns its run id. */
export async function trigger(h: Harness, dagId: string, body: Record<string, unknown> = { logical_date: null }): Promise<string> {
  const r = await h.json("POST", `/api/v2/dags/${dagId}/dagRuns`, { body });
  if (r.status !== 200) throw new Error(`trigger failed: ${JSON.stringify(r.body)}`);
  return r.body.dag_run_id;
}

export async function tiStates(h: Harness, dagId: string, runId: string) {
  const tis = (await h.store.listTaskInstances("default", dagId, runId)).items;
  return Object.fromEntries(tis.map((t) => [t.task_id, { state: t.state, try_number: t.try_number, max_tries: t.max_tries }]));
}
