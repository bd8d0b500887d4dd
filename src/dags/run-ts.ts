/**
 * The body of the hidden `leoflow run-ts FILE TASK_ID DAG_ID` subcommand: the agent spawns it for a `ts`
 * task. It imports the DAG file, runs the task's function with a context built from the agent's LEOFLOW_*
 * environment, and writes the return value where the agent collects it.
 */
import { resolve } from "node:path";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { TaskContext } from "../sdk";
import { connectionSecrets, variableSecrets } from "../domain";
import { currentTaskToken, dial, readConnection, readVariable, recordSecrets, type AgentClient } from "../agent";
import { runTsSensor } from "./run-ts-sensor";

/** The env name an upstream's XCom arrives under: upper-cased, non-alphanumerics → `_`. */
export function xcomEnvName(taskId: string): string {
  return `LEOFLOW_XCOM_${taskId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * Runs one `ts` task function and returns the process exit code: 0 on success, 1 when the function throws or
 * the task cannot be found (the reason goes to stderr).
 */
export async function runTsTask(dagFile: string, taskId: string, dagId: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    // The loader (the SDK, YAML) on the call: the server loads dags/index.ts, which re-exports this module,
    // and never runs a ts task.
    const { importDagModule } = await import("./loader");
    const dags = await importDagModule(resolve(dagFile), false);
    const dag = dags.find((d) => d.dag_id === dagId);
    if (!dag) return fail(`DAG "${dagId}" is not declared in ${dagFile} (found: ${dags.map((d) => d.dag_id).join(", ") || "none"})`);
    const fn = dag.functions.get(taskId);
    if (!fn) return fail(`task "${taskId}" of DAG "${dagId}" is not a ts task in ${dagFile}`);
    const ctx = buildContext(
      dag.spec.tasks.map((t) => t.task_id),
      env,
    );
    const keep = async (result: unknown) => {
      const out = env.LEOFLOW_RETURN_VALUE_PATH;
      const json = JSON.stringify(result);
      if (json === undefined) throw new Error(`task "${taskId}" returned a value that is not JSON-serialisable`);
      if (out) await writeFile(out, json);
      else console.error("LEOFLOW_RETURN_VALUE_PATH is not set; the return value is dropped");
    };
    const task = dag.spec.tasks.find((t) => t.task_id === taskId);
    if (task?.operator === "sensor")
      return await runTsSensor(task, {
        check: async () => fn(ctx),
        keep,
        now: Date.now,
        sleep: (ms) => Bun.sleep(ms),
        log: (line) => console.log(line),
      });
    const result = await fn(ctx);
    if (result !== undefined) await keep(result);
    return 0;
  } catch (e) {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return 1;
  }
}

/**
 * The ts function's context, from the environment the agent sets up. ctx.var/ctx.conn read the task's team's
 * variables and connections with the try's token (dialled on first use; tests pass `client`), and report
 * secrets to the agent's mask file before handing them over.
 */
export function buildContext(
  taskIds: string[],
  env: NodeJS.ProcessEnv,
  client?: Pick<AgentClient, "getVariable" | "getConnection">,
): TaskContext {
  let rpc = client;
  const reader = () => {
    if (rpc) return rpc;
    const token = currentTaskToken(env);
    if (!env.LEOFLOW_SERVER || !token)
      throw new Error("ctx.var/ctx.conn need LEOFLOW_SERVER and LEOFLOW_AGENT_TOKEN, which the agent sets for every task");
    rpc = dial(env.LEOFLOW_SERVER, token, { timeoutMs: 10_000 });
    return rpc;
  };
  const xcom: Record<string, unknown> = {};
  for (const id of taskIds) {
    const raw = envValue(env, xcomEnvName(id));
    if (raw !== undefined) xcom[id] = parseJson(raw, xcomEnvName(id));
  }
  const map = envValue(env, "LEOFLOW_MAP");
  return {
    xcom,
    params: asObject(envValue(env, "LEOFLOW_PARAMS"), "LEOFLOW_PARAMS"),
    conf: asObject(envValue(env, "LEOFLOW_CONF"), "LEOFLOW_CONF"),
    logical_date: env.LEOFLOW_LOGICAL_DATE || null,
    dag_id: env.LEOFLOW_DAG_ID ?? "",
    run_id: env.LEOFLOW_RUN_ID ?? "",
    task_id: env.LEOFLOW_TASK_ID ?? "",
    try_number: Number(env.LEOFLOW_TRY_NUMBER ?? 1) || 1,
    map_index: env.LEOFLOW_MAP_INDEX === undefined ? -1 : Number(env.LEOFLOW_MAP_INDEX),
    map: map === undefined ? {} : asObject(map, "LEOFLOW_MAP"),
    var: async (key) => {
      const { value, encrypted } = await readVariable(reader(), key);
      recordSecrets(variableSecrets(key, value, "", encrypted), env);
      return value;
    },
    conn: async (id) => {
      const conn = await readConnection(reader(), id);
      recordSecrets(connectionSecrets(conn), env);
      return conn;
    },
  };
}

/** A variable's value, or the content of the file `NAME_FILE` names when the agent moved a large value there (agent/env-spill.ts). */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (env[name] !== undefined) return env[name];
  const file = env[`${name}_FILE`];
  return file === undefined ? undefined : readFileSync(file, "utf8");
}

function parseJson(raw: string, name: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`${name} is not valid JSON: ${raw.slice(0, 200)}`);
  }
}

function asObject(raw: string | undefined, name: string): Record<string, unknown> {
  if (!raw) return {};
  const v = parseJson(raw, name);
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function fail(message: string): number {
  console.error(`leoflow run-ts: ${message}`);
  return 1;
}
