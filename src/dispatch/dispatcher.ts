/**
 * Dispatcher: turns a queued task instance into a launched one. It resolves what the executor needs (the
 * pinned task spec, the DAG file), mints the agent token scoped to this task instance and try, and hands the
 * request to the executor the router picks. A rejection is a dispatch failure for the caller to record.
 */
import type { DagRunRecord, DagSpec, TaskInstanceRecord } from "../domain";
import type { DispatchStore } from "../store";
import type { Router } from "../executors";
import type { AgentTokens } from "../auth";
import { agentTokenLifetime, type TokenTtlPolicy } from "./token-ttl";

export interface DispatchDeps {
  store: Pick<DispatchStore, "getDag">;
  router: Router;
  tokens: AgentTokens;
  /** URL agents use to reach the control plane. */
  controlPlaneUrl: string;
  /** Token lifetime: execution_timeout plus queue wait and grace, else the ceiling (see token-ttl.ts). */
  tokenTtl: TokenTtlPolicy;
}

export interface TaskDispatcher {
  dispatch(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec): Promise<void>;
}

export class Dispatcher implements TaskDispatcher {
  private readonly fileOfDag = new Map<string, string>();

  constructor(private readonly deps: DispatchDeps) {}

  async dispatch(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec): Promise<void> {
    const task = spec.tasks.find((t) => t.task_id === ti.task_id);
    if (!task) throw new Error(`task ${ti.task_id} is not in version ${run.version_id} of DAG ${ti.dag_id}`);
    const executor = this.deps.router.executorFor(task);
    const { ttlSeconds, renewable } = agentTokenLifetime(task.execution_timeout, this.deps.tokenTtl);
    const agentToken = await this.deps.tokens.issue(
      { tiId: ti.id, tryNumber: ti.try_number, dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, renewable },
      ttlSeconds,
    );
    await executor.execute({
      taskInstanceId: ti.id,
      dagId: ti.dag_id,
      runId: ti.run_id,
      taskId: ti.task_id,
      tryNumber: ti.try_number,
      task,
      dagFile: await this.dagFile(ti.dag_id),
      controlPlaneUrl: this.deps.controlPlaneUrl,
      agentToken,
    });
  }

  private async dagFile(dagId: string): Promise<string> {
    let file = this.fileOfDag.get(dagId);
    if (file === undefined) {
      file = (await this.deps.store.getDag(dagId))?.fileloc ?? "";
      this.fileOfDag.set(dagId, file);
    }
    return file;
  }
}
