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
 * Arguments come through argv (dag folder, "module:function") so nothing is spliced into Python source. The
 * function gets Airflow's context from the try's LEOFLOW_* values: dag_id, run_id, task_id, try_number,
 * map_index, logical_date, ds, ds_nodash, ts, params, conf, dag_run, and ti (xcom_pull of upstreams' return values).
 */
export const PYTHON_CALLABLE_WRAPPER = [
  "import importlib, inspect, json, os, re, sys",
  "dag_dir, target = sys.argv[1], sys.argv[2]",
  "sys.path.insert(0, dag_dir)",
  "mod_name, fn_name = target.split(':', 1)",
  "fn = getattr(importlib.import_module(mod_name), fn_name)",
  // A value too large for the environment arrives as a file named by NAME_FILE (agent/env-spill.ts).
  "def env(name):",
  "    if name in os.environ: return os.environ[name]",
  "    path = os.environ.get(name + '_FILE')",
  "    if path:",
  "        with open(path) as f: return f.read()",
  "    return None",
  "def env_json(name, default):",
  "    v = env(name)",
  "    return default if v in (None, '') else json.loads(v)",
  "class TaskInstance:",
  "    def __init__(self, c):",
  "        self.dag_id, self.run_id, self.task_id = c['dag_id'], c['run_id'], c['task_id']",
  "        self.try_number, self.map_index = c['try_number'], c['map_index']",
  "    def xcom_pull(self, task_ids=None, key='return_value'):",
  "        if key != 'return_value': raise KeyError('only return_value XComs of upstream tasks are passed to a task')",
  "        pull = lambda t: env_json('LEOFLOW_XCOM_' + re.sub('[^A-Z0-9]', '_', t.upper()), None)",
  "        return [pull(t) for t in task_ids] if isinstance(task_ids, (list, tuple)) else pull(task_ids)",
  "ld = os.environ.get('LEOFLOW_LOGICAL_DATE') or None",
  "ctx = {'dag_id': os.environ.get('LEOFLOW_DAG_ID', ''), 'run_id': os.environ.get('LEOFLOW_RUN_ID', ''),",
  "       'task_id': os.environ.get('LEOFLOW_TASK_ID', ''), 'try_number': int(os.environ.get('LEOFLOW_TRY_NUMBER', '1')),",
  "       'map_index': int(os.environ.get('LEOFLOW_MAP_INDEX', '-1')), 'logical_date': ld,",
  "       'ds': ld[:10] if ld else None, 'ds_nodash': ld[:10].replace('-', '') if ld else None, 'ts': ld,",
  "       'params': env_json('LEOFLOW_PARAMS', {}), 'conf': env_json('LEOFLOW_CONF', {})}",
  "ctx['dag_run'] = {'dag_id': ctx['dag_id'], 'run_id': ctx['run_id'], 'conf': ctx['conf'], 'logical_date': ld}",
  "ctx['ti'] = ctx['task_instance'] = TaskInstance(ctx)",
  // As Airflow's PythonOperator: a callable taking **kwargs gets the whole context, one naming parameters gets
  // those; a mapped instance's arguments come by their names (expand's keys), over the context's.
  "pool = {**ctx, **env_json('LEOFLOW_MAP', {})}",
  "sig = inspect.signature(fn).parameters.values()",
  "takes_all = any(p.kind == p.VAR_KEYWORD for p in sig)",
  "kwargs = pool if takes_all else {p.name: pool[p.name] for p in sig if p.name in pool and p.kind != p.VAR_POSITIONAL}",
  "result = fn(**kwargs)",
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
