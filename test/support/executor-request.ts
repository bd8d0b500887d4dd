/**
 * A subprocess executor's request for one try of a one-task bash DAG ("d", run "r", task "t"), for tests that
 * drive the executor with stand-in agents; `over` sets the try, the token and whatever else a test varies.
 */
import { parseDagSpec } from "../../src/domain/schemas";
import type { ExecutorRequest } from "../../src/executors";

const task = parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }).tasks[0]!;

export function bashTryRequest(over: Partial<ExecutorRequest> = {}): ExecutorRequest {
  return {
    taskInstanceId: 1,
    team: "default",
    dagId: "d",
    runId: "r",
    taskId: "t",
    tryNumber: 1,
    task,
    dagFile: "",
    controlPlaneUrl: "http://127.0.0.1:1",
    agentToken: "t",
    ...over,
  };
}
