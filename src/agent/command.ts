/**
 * The argv of the user process for a task. Pure: a TaskSpec and its DAG (file path and id) in, argv out.
 *
 * @example buildCommand({ operator: "bash", bash_command: "echo hi", ... }, { file: "/dags/etl.json", id: "etl" }) // ["bash", "-c", "echo hi"]
 */
import { dirname } from "node:path";
// errors.ts, not the domain index: the agent starts once per task, and the index would load zod and the
// DAG schemas it never uses.
import { ValidationError } from "../domain/errors";
import type { TaskSpec } from "../domain";
import { selfCommand } from "./self-command";
import { bashSensorArgv } from "./sensor-loop";

/**
 * Runs `module:function` from the DAG folder and writes a non-None result as JSON to the return-value path.
 * Arguments come through argv (dag folder, "module:function") so nothing is spliced into Python source.
 */
export const PYTHON_CALLABLE_WRAPPER = [
  "import importlib, json, os, sys",
  "dag_dir, target = sys.argv[1], sys.argv[2]",
  "sys.path.insert(0, dag_dir)",
  "mod_name, fn_name = target.split(':', 1)",
  "result = getattr(importlib.import_module(mod_name), fn_name)()",
  "if result is not None:",
  "    with open(os.environ['LEOFLOW_RETURN_VALUE_PATH'], 'w') as f:",
  "        json.dump(result, f)",
].join("\n");

export function buildCommand(task: TaskSpec, dag: { file: string; id: string }, self: () => string[] = selfCommand): string[] {
  const dagFile = dag.file;
  const where = `task ${task.task_id}`;
  switch (task.operator) {
    case "bash":
      if (!task.bash_command) throw invalid(where, "a bash task needs bash_command");
      return ["bash", "-c", task.bash_command];
    case "python":
      if (task.python_code) return ["python3", "-c", task.python_code];
      if (task.python_callable) return ["python3", "-c", PYTHON_CALLABLE_WRAPPER, dagFile ? dirname(dagFile) : ".", task.python_callable];
      throw invalid(where, "a python task needs python_code or python_callable");
    case "ts":
      return runTs(task, dag, self);
    case "container":
      if (!task.command?.length)
        throw invalid(where, "a container task run by the agent needs command (the image's entrypoint is not known here)");
      return [...task.command, ...(task.args ?? [])];
    case "http":
      throw invalid(where, "http tasks run inline in the control plane, not in an agent; check the executor routing");
    case "empty":
      throw invalid(where, "an empty task runs nothing: the scheduler marks it success itself, no agent takes it");
    case "sensor":
      // A ts check: run-ts finds the sensor in the DAG and loops (poke) or checks once (reschedule) itself.
      if (task.sensor?.kind === "ts") return runTs(task, dag, self);
      if (task.sensor?.kind !== "bash")
        throw invalid(
          where,
          `a ${task.sensor?.kind ?? "kindless"} sensor is checked by the control plane, not in an agent; check the executor routing`,
        );
      // Mode reschedule: one check per try; its exit 75 ends the try up_for_reschedule (runner.ts).
      if (task.mode === "reschedule") return ["bash", "-c", task.sensor.bash_command];
      return bashSensorArgv(task.sensor.bash_command, task);
    default:
      throw invalid(where, `unknown operator ${JSON.stringify((task as { operator: unknown }).operator)}`);
  }
}

function runTs(task: TaskSpec, dag: { file: string; id: string }, self: () => string[]): string[] {
  if (!dag.file) throw invalid(`task ${task.task_id}`, "a ts task needs its DAG file, but the control plane sent none");
  // The DAG id too: one file may declare several DAGs.
  return [...self(), "run-ts", dag.file, task.task_id, dag.id];
}

function invalid(where: string, message: string): ValidationError {
  return new ValidationError(`${where}: ${message}`, [{ path: where, message }]);
}
