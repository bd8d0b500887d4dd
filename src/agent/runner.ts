/**
 * The agent's lifecycle for one task instance try: Register (answering the task's spec too; GetTaskSpec from a
 * control plane that does not) → run the user process while streaming its logs and heartbeating → push the
 * return value → flush logs → ReportState.
 * Exit code of the agent: 0 task succeeded or was skipped, 1 task failed (reported), 2 the agent could not
 * run the protocol (refused, stale try, control plane unreachable).
 *
 * @example process.exit(await runAgent({ server: "http://127.0.0.1:8080", token }))
 */
import { existsSync, writeSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { dirname } from "node:path";
import type { TaskSpec } from "../domain";
import { createLogger, type Logger } from "../observability/logger"; // not the index: keeps agent start-up light
import { AgentRpcError, dial, type AgentClient, type RegisterResponse } from "./client";
import { buildCommand } from "./command";
import { SENSOR_NOT_YET_EXIT_CODE, SENSOR_TIMEOUT_EXIT_CODE } from "./sensor-loop";
import { LineSplitter } from "./line-splitter";
import { LogShipper } from "./log-shipper";
import { readReturnValue } from "./return-value";
import { makeTryDir, type TryDir } from "./try-dir";
import { KILL_GRACE_MS, signalGroup, spawnUserProcess, stopGroup, type UserProcess } from "./user-process";
import { xcomEnv } from "./xcom-env";
import { spillLargeEnv, spillNote, writeSpilledEnv } from "./env-spill";
import { prepareTaskContext, withTaskContext } from "./task-context";
import { writeTokenFile } from "./token-file";
import { ensureVenv, inVenv, venvSettings } from "./python-venv";
import { formatControlLine } from "./control-line";
// The file, not the executors index: the agent starts once per task and needs only this pure rule.
import { AGENT_SETTINGS_ENV, userProcessEnv } from "../domain/task-env";
import { errorMessage } from "../domain/errors";

export interface RunAgentOptions {
  server: string;
  token: string;
  logger?: Logger;
  hostname?: string;
  /** Tests inject a client (e.g. with a recording sleep); otherwise `dial(server, token)`. */
  client?: AgentClient;
  killGraceMs?: number;
  /** How long a log line may wait for more before its batch is sent (LogShipper's flushIntervalMs; default 200 ms). */
  logFlushMs?: number;
  /**
   * Where the user process's environment is built from (task-env.ts) and the control setting is read; default
   * process.env. A warm agent passes its own plus this try's values, so no try sees another's.
   */
  env?: Record<string, string | undefined>;
  /** Register's answer when the server already registered this try (a warm agent's assignment): not asked again. */
  registered?: RegisterResponse;
  /** The try's temp folder made ahead (a warm agent's, while idle; the maker removes it); else one made and removed here. */
  tryDir?: Promise<TryDir>;
}

/** `final`: a failure no retry can change (a sensor's timeout). */
type Outcome = { state: "success" | "failed" | "skipped" | "up_for_reschedule"; exitCode: number; error: string; final?: boolean };

export const SKIP_EXIT_CODE = 99;
/**
 * Whose exit 99 means skipped: a bash task's (Airflow's BashOperator skip_on_exit_code) and a sensor's (its
 * soft_fail, said by our own check loops). A python, ts or container task that exits 99 failed, as in Airflow.
 */
const SKIPS_ON_EXIT_99: ReadonlySet<TaskSpec["operator"]> = new Set(["bash", "sensor"]);

export async function runAgent(opts: RunAgentOptions): Promise<number> {
  const log = opts.logger ?? createLogger("agent");
  const client = opts.client ?? dial(opts.server, opts.token, { logger: log });
  const host = opts.hostname ?? osHostname();
  // What can wait until the state is reported (the try's temp folder): the report, and so the try's end, comes first.
  const afterReport: (() => Promise<void>)[] = [];
  try {
    const reg =
      opts.registered ??
      (await client.register({ hostname: host, pid: process.pid, version: process.env.LEOFLOW_VERSION ?? "", includeSpec: true }));
    // A control plane older than includeSpec (or one that could not build the spec) answers none: ask for it.
    const spec = reg.spec ?? (await client.getTaskSpec({}));
    const task = JSON.parse(spec.taskJson) as TaskSpec;
    const shipper = new LogShipper((firstSeq, lines) => client.appendLogs({ firstSeq, lines }), {
      logger: log,
      firstSeq: Number(spec.logSeqStart),
      flushIntervalMs: opts.logFlushMs,
    });
    // What the control plane rendered into the task's templates from secret variables and connections.
    for (const s of spec.secrets) shipper.masker.add(s);
    const agentLog = (line: string) => shipper.add("agent", line);
    agentLog(
      `leoflow agent on ${host} (pid ${process.pid}): ${spec.dagId}/${spec.runId}/${spec.taskId} try ${spec.tryNumber}, operator ${spec.operator}`,
    );

    const outcome = await runTask({
      client,
      task,
      spec,
      shipper,
      agentLog,
      heartbeatSeconds: reg.heartbeatIntervalSeconds,
      killGraceMs: opts.killGraceMs ?? KILL_GRACE_MS,
      server: opts.server,
      token: opts.token,
      env: opts.env ?? process.env,
      tryDir: opts.tryDir,
      afterReport,
    });

    if (outcome.state === "failed") agentLog(`task failed: ${outcome.error}`);
    // The last lines ride on the report when the control plane takes them there (one write, not two).
    let res: Awaited<ReturnType<AgentClient["reportState"]>>;
    if (reg.reportTakesLogs) res = await client.reportState({ ...outcome, logs: await shipper.takeLast() });
    else {
      await shipper.close();
      res = await client.reportState(outcome);
    }
    if (res.state !== outcome.state) log.warn("control plane kept a different state", { reported: outcome.state, state: res.state });
    return res.state === "success" || res.state === "skipped" ? 0 : 1;
  } catch (e) {
    const err = e instanceof AgentRpcError ? e : new AgentRpcError("unknown", errorMessage(e), "agent");
    log.error("agent could not complete the task protocol", { code: err.code, method: err.method, error: err.rawMessage });
    return 2;
  } finally {
    for (const task of afterReport) await task();
  }
}

interface RunTaskInput {
  client: AgentClient;
  task: TaskSpec;
  spec: {
    dagFile: string;
    dagId: string;
    env: Record<string, string>;
    xcomInputs: Record<string, string>;
    timeoutSeconds: number;
    templateError: string;
    pythonRequirements: string[];
  };
  shipper: LogShipper;
  agentLog(line: string): void;
  heartbeatSeconds: number;
  killGraceMs: number;
  /** The control plane and this try's token, handed to the task for `leoflow task …` and ctx.var/ctx.conn. */
  server: string;
  token: string;
  env: Record<string, string | undefined>;
  tryDir?: Promise<TryDir>;
  /** Work left for after ReportState (runAgent runs it whatever happens). */
  afterReport: (() => Promise<void>)[];
}

/** Runs the user process and decides the outcome; never throws for anything the user's code did. */
async function runTask(input: RunTaskInput): Promise<Outcome> {
  const { client, task, spec, shipper, agentLog } = input;
  if (spec.templateError) return { state: "failed", exitCode: -1, error: spec.templateError };
  let argv: string[];
  try {
    argv = buildCommand(task, { file: spec.dagFile, id: spec.dagId });
  } catch (e) {
    return { state: "failed", exitCode: -1, error: errorMessage(e) };
  }
  const dir = await (input.tryDir ?? makeTryDir());
  try {
    const dagDir = spec.dagFile ? dirname(spec.dagFile) : "";
    const cwd = dagDir && existsSync(dagDir) ? dagDir : process.cwd();
    let context: Awaited<ReturnType<typeof prepareTaskContext>>;
    try {
      context = await prepareTaskContext({ task, client, shipper, dir, server: input.server, token: input.token });
    } catch (e) {
      return { state: "failed", exitCode: -1, error: errorMessage(e) };
    }
    let env = withTaskContext(
      userProcessEnv({
        agentEnv: input.env,
        taskEnv: { ...spec.env, ...context.env },
        xcom: xcomEnv(spec.xcomInputs),
        returnValuePath: dir.returnValuePath,
      }),
      context,
    );
    // The token file (token-file.ts) holds the latest token: renewed by a heartbeat, else this try's own, written
    // once the user process started (a task that reads it sooner falls back to the same token in its env).
    let tokenWritten = false;
    const writeToken = (token: string) => {
      writeTokenFile(context.tokenFile, token);
      tokenWritten = true;
    };
    if (spec.pythonRequirements.length) {
      // A first build takes minutes: heartbeat meanwhile, or the reaper would take the agent for lost.
      let stopped = "";
      const beat = startHeartbeat(client, input.heartbeatSeconds, (reason) => (stopped ||= reason), writeToken);
      const venv = await pythonVenv(spec.pythonRequirements, env, input.env, agentLog).finally(() => beat.stop());
      if (stopped) return { state: "failed", exitCode: -1, error: `the control plane asked to stop: ${stopped}` };
      if ("error" in venv) return { state: "failed", exitCode: -1, error: venv.error };
      if (venv.dir) ({ argv, env } = inVenv(argv, env, venv.dir));
    }
    // A value too large for an environment (E2BIG at the spawn) goes to a file the task finds by $NAME_FILE.
    const spill = spillLargeEnv(env, argv, dir.path);
    if (spill.moved.length) {
      try {
        await writeSpilledEnv(spill.files);
      } catch (e) {
        return { state: "failed", exitCode: -1, error: `cannot write the task's large environment values to files: ${errorMessage(e)}` };
      }
      for (const m of spill.moved) agentLog(spillNote(m));
      env = spill.env;
    }
    let proc: UserProcess;
    try {
      proc = spawnUserProcess(argv, cwd, env);
    } catch (e) {
      return { state: "failed", exitCode: -1, error: `cannot start ${argv[0]}: ${errorMessage(e)}` };
    }
    announceUserGroup(proc.pid, input.env);
    if (!tokenWritten)
      try {
        writeToken(input.token);
      } catch (e) {
        agentLog(`cannot write the token file ${context.tokenFile} (the task's own calls use $LEOFLOW_AGENT_TOKEN): ${errorMessage(e)}`);
      }
    const started = performance.now();
    agentLog(`running ${summarize(argv)} in ${cwd}`);

    let stopReason = "";
    let cancelKill = () => {};
    const stop = (reason: string) => {
      if (stopReason) return;
      stopReason = reason;
      agentLog(`stopping the task: ${reason}`);
      cancelKill = stopGroup(proc.pid, input.killGraceMs);
    };
    const timeout =
      spec.timeoutSeconds > 0
        ? setTimeout(() => stop(`execution_timeout: task ran longer than ${spec.timeoutSeconds}s`), spec.timeoutSeconds * 1000)
        : null;
    const heartbeat = startHeartbeat(
      client,
      input.heartbeatSeconds,
      (reason) => stop(`the control plane asked to stop: ${reason}`),
      writeToken,
    );
    const onSignal = (sig: NodeJS.Signals) => stop(`agent received ${sig}`);
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);

    const drained = Promise.all([pump(proc.stdout, "stdout", shipper), pump(proc.stderr, "stderr", shipper)]);
    const exitCode = await proc.exited;
    // Children left behind (e.g. `cmd &`) would hold the pipes open; the task is over, so they go too.
    if (!stopReason && signalGroup(proc.pid, "SIGTERM")) cancelKill = stopGroup(proc.pid, input.killGraceMs);
    await drained;
    shipper.takeInSecrets(); // the mask file goes with the try's temp dir below; its secrets stay in the masker
    cancelKill();
    if (timeout) clearTimeout(timeout);
    heartbeat.stop();
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);

    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const signal = proc.signalCode;
    agentLog(signal ? `killed by ${signal} after ${seconds}s` : `exit code ${exitCode} after ${seconds}s`);

    if (stopReason) return { state: "failed", exitCode, error: stopReason };
    if (signal) return { state: "failed", exitCode, error: `killed by ${typeof signal === "number" ? `signal ${signal}` : signal}` };
    if (exitCode === SKIP_EXIT_CODE && SKIPS_ON_EXIT_99.has(task.operator)) return { state: "skipped", exitCode, error: "" };
    if (exitCode === SENSOR_TIMEOUT_EXIT_CODE && task.operator === "sensor")
      return { state: "failed", exitCode, error: "sensor timed out (not retried)", final: true };
    if (exitCode === SENSOR_NOT_YET_EXIT_CODE && task.operator === "sensor" && task.mode === "reschedule")
      return { state: "up_for_reschedule", exitCode, error: "" };
    if (exitCode !== 0) return { state: "failed", exitCode, error: `exit code ${exitCode}` };
    try {
      const value = await readReturnValue(dir.returnValuePath);
      if (value.ok) await client.pushXCom({ key: "return_value", valueJson: value.json });
    } catch (e) {
      return { state: "failed", exitCode, error: e instanceof AgentRpcError ? `return value refused: ${e.rawMessage}` : errorMessage(e) };
    }
    return { state: "success", exitCode, error: "" };
  } finally {
    // Nothing reads the folder once the outcome is decided (the return value is pushed, the mask file read).
    // A folder made ahead is its maker's to remove (the warm agent's, once the try is over).
    if (!input.tryDir) input.afterReport.push(() => dir.cleanup().catch(() => {}));
  }
}

/** The DAG's python environment, built or reused; none when the executor configured no venv folder. */
async function pythonVenv(
  requirements: string[],
  env: Record<string, string>,
  agentEnv: Record<string, string | undefined>,
  agentLog: (line: string) => void,
): Promise<{ dir: string | null } | { error: string }> {
  const settings = venvSettings(agentEnv);
  if (!settings.venvsDir) {
    agentLog(
      "the DAG's requirements are not installed here: only the subprocess executor builds python environments; a container's image provides its packages",
    );
    return { dir: null };
  }
  try {
    return { dir: await ensureVenv({ ...settings, requirements, env, log: agentLog }) };
  } catch (e) {
    return { error: errorMessage(e) };
  }
}

/** Tells the executor that started us (if it asked) which group to kill should we die first. */
function announceUserGroup(pgid: number, env: Record<string, string | undefined>): void {
  if (env[AGENT_SETTINGS_ENV.control] !== "stdout") return;
  try {
    writeSync(1, formatControlLine({ user_pgid: pgid }));
  } catch {
    // EPIPE: the server that started us is gone; the task goes on and reports when a server is back.
  }
}

async function pump(stream: ReadableStream<Uint8Array>, name: string, shipper: LogShipper): Promise<void> {
  const splitter = new LineSplitter();
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) for (const line of splitter.push(r.value)) shipper.add(name, line);
  for (const line of splitter.end()) shipper.add(name, line);
}

/**
 * Heartbeats every `seconds`, one at a time; `onStop` when the control plane says the try is over, `onRenewed`
 * with each renewed token (the client already uses it; the task's own calls read it from the token file).
 */
function startHeartbeat(
  client: AgentClient,
  seconds: number,
  onStop: (reason: string) => void,
  onRenewed: (token: string) => void,
): { stop(): void } {
  if (!(seconds > 0)) return { stop() {} };
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const res = await client.heartbeat({});
      if (res.shouldStop) onStop(res.reason || "task instance is no longer running");
      else if (res.renewedToken) onRenewed(res.renewedToken);
    } catch {
      // The client already retried; the control plane's reaper decides if we are lost.
    } finally {
      busy = false;
    }
  }, seconds * 1000);
  return { stop: () => clearInterval(timer) };
}

function summarize(argv: string[]): string {
  const s = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  return s.length > 500 ? `${s.slice(0, 500)}… (${s.length} chars)` : s;
}
