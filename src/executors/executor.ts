/**
 * The executor interface. An executor launches one task instance try. For asynchronous executors
 * (subprocess, docker, kubernetes) `execute` resolves once the agent is launched; the agent reports the
 * outcome over RPC. A rejected promise means the launch itself failed (a dispatch failure).
 */
import type { DagRunRecord, TaskInstanceRecord, TaskDefaults, TaskSpec } from "../domain";

export interface ExecutorRequest {
  taskInstanceId: number;
  /** The team that owns the task instance. */
  team: string;
  /** Kubernetes: the namespace of this try's pod, secret and staging PVC (the team's policy); absent: the executor's. */
  namespace?: string;
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  task: TaskSpec;
  /** Absolute path of the DAG file (subprocess: the agent imports it for `ts` and python_callable tasks). */
  dagFile: string;
  /** URL at which the agent reaches the control plane. */
  controlPlaneUrl: string;
  /** Bearer token scoped to this task instance and try. */
  agentToken: string;
  /**
   * The try as a chain's hand-off started it (running, DispatchStep's startOnHandOff), with its run: the
   * subprocess executor registers it for its warm agent from these, without reading it back.
   */
  started?: { ti: TaskInstanceRecord; run: DagRunRecord };
}

export interface Executor {
  readonly name: string;
  /** What a task that names no image or resources gets (container executors): a team's policy checks these too. */
  readonly taskDefaults?: TaskDefaults;
  execute(req: ExecutorRequest): Promise<void>;
  /** Stops a launched try if it is still running (cancel, mark failed, timeout). Best effort. */
  cancel?(taskInstanceId: number, tryNumber: number): Promise<void>;
  /** Stops launching; waits for or detaches from what is in flight, up to `graceMs`. */
  close?(graceMs: number): Promise<void>;
}
