/**
 * Dispatcher: turns a queued task instance into a launched one. It resolves what the executor needs (the
 * pinned task spec, the DAG file), checks the try against its team's executor policy (executor, image,
 * resources; a violation is an ExecutorPolicyViolation and nothing is launched, no token minted), mints the
 * agent token scoped to this task instance and try, and hands the request to the executor the router picks,
 * in the team's Kubernetes namespace when its policy names one. A rejection is a dispatch failure for the
 * caller to record.
 */
import { policyViolations, taskOfSpec, teamKey, type DagRunRecord, type DagSpec, type TaskInstanceRecord } from "../domain";
import type { DispatchStore } from "../store";
import type { Router } from "../executors";
import type { AgentTokens } from "../auth";
import { agentTokenLifetime, type TokenTtlPolicy } from "./token-ttl";
import { ExecutorPolicyViolation } from "./policy-violation";
import type { TeamPolicies } from "./team-policies";

export interface DispatchDeps {
  store: Pick<DispatchStore, "getDag">;
  router: Router;
  tokens: AgentTokens;
  /** URL agents use to reach the control plane. */
  controlPlaneUrl: string;
  /** Token lifetime: execution_timeout plus queue wait and grace, else the ceiling (see token-ttl.ts). */
  tokenTtl: TokenTtlPolicy;
  /** Teams' executor policies (cached); absent: no team restricts where its tasks run. */
  policies?: Pick<TeamPolicies, "teamOf">;
  /** Epoch ms (default Date.now); tests move it to age the DAG files read. */
  now?: () => number;
}

/**
 * How long a DAG's file, as the store names it, is used without reading it again. Not for good: a DAG whose file
 * moved (renamed, or its DAGs folder checked out at another path: dags/folder-sync.ts) was otherwise launched with
 * the old path for as long as the server ran, its ts tasks and python callables looking for a file that was gone.
 */
export const DAG_FILE_CACHE_MS = 5_000;

export interface TaskDispatcher {
  /** `ti` as the scheduler has it: running when a chain's hand-off started it with its upstream's end. */
  dispatch(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec): Promise<void>;
}

export class Dispatcher implements TaskDispatcher {
  private readonly fileOfDag = new Map<string, { file: string; readAt: number }>();

  constructor(private readonly deps: DispatchDeps) {}

  async dispatch(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec): Promise<void> {
    const task = taskOfSpec(spec, ti.task_id);
    if (!task) throw new Error(`task ${ti.task_id} is not in version ${run.version_id} of DAG ${ti.dag_id}`);
    const executor = this.deps.router.executorFor(task);
    const team = await this.deps.policies?.teamOf(ti.team);
    if (team) {
      const violations = policyViolations(task, executor.name, team, executor.taskDefaults);
      if (violations.length) throw new ExecutorPolicyViolation(ti.team, violations);
    }
    const { ttlSeconds, renewable } = agentTokenLifetime(task.execution_timeout, this.deps.tokenTtl);
    const agentToken = await this.deps.tokens.issue(
      { tiId: ti.id, tryNumber: ti.try_number, dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, renewable },
      ttlSeconds,
    );
    await executor.execute({
      taskInstanceId: ti.id,
      team: ti.team,
      ...(team?.executor_policy.kubernetes_namespace ? { namespace: team.executor_policy.kubernetes_namespace } : {}),
      dagId: ti.dag_id,
      runId: ti.run_id,
      taskId: ti.task_id,
      tryNumber: ti.try_number,
      task,
      dagFile: await this.dagFile(ti.team, ti.dag_id),
      controlPlaneUrl: this.deps.controlPlaneUrl,
      agentToken,
      // Started by a chain's hand-off (DispatchStep.startOnHandOff): the executor may register it as it is.
      ...(ti.state === "running" ? { started: { ti, run } } : {}),
    });
  }

  /** Keyed by team and DAG id: two teams' DAGs may share an id and live in different files. */
  private async dagFile(team: string, dagId: string): Promise<string> {
    const key = teamKey(team, dagId);
    const now = (this.deps.now ?? Date.now)();
    const known = this.fileOfDag.get(key);
    if (known && now - known.readAt < DAG_FILE_CACHE_MS) return known.file;
    const file = (await this.deps.store.getDag(team, dagId))?.fileloc ?? "";
    this.fileOfDag.set(key, { file, readAt: now });
    return file;
  }
}
