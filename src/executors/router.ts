/**
 * Router: picks the executor for a task. A task's own `executor` wins; `http` tasks run inline in the
 * control plane; everything else goes to the configured standard executor (subprocess, docker, kubernetes).
 */
import type { TaskSpec } from "../domain";
import type { Executor } from "./executor";

export class Router {
  private readonly byName: Map<string, Executor>;

  constructor(
    private readonly standard: Executor,
    others: Executor[] = [],
  ) {
    this.byName = new Map([standard, ...others].map((e) => [e.name, e]));
  }

  /** The executor for `task`; throws a precise error when the task names one this server does not run. */
  executorFor(task: Pick<TaskSpec, "operator" | "executor" | "task_id">): Executor {
    const wanted = task.executor ?? (task.operator === "http" ? "inline" : undefined);
    if (!wanted) return this.standard;
    const found = this.byName.get(wanted);
    if (!found)
      throw new Error(
        `task ${task.task_id} needs the ${wanted} executor, which this server does not run (available: ${[...this.byName.keys()].join(", ")})`,
      );
    return found;
  }

  all(): Executor[] {
    return [...this.byName.values()];
  }
}
