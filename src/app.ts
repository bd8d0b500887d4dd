/**
 * The composition root: reads a ServeConfig and builds the object graph — store, DAG folder sync, executors,
 * dispatcher, scheduler, agent RPC and HTTP API — on one port. Nothing else wires modules together.
 */
import { mkdirSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { ServeConfig } from "./config";
import { openStore, type Store } from "./store";
import { createLogger, type Logger } from "./observability";
import { DagFolderSync } from "./dags";
import { Router, SubprocessExecutor, type AgentExit } from "./executors";
import { Dispatcher } from "./dispatch";
import { SchedulerLoop } from "./scheduler";
import { createAgentRpcHandler } from "./rpc";
import { createApi } from "./api";
import { AgentTokens, UserTokens, ensureAdminUser } from "./auth";
import { selfCommand } from "./agent";
import { VERSION } from "./version";

export interface RunningServer {
  url: string;
  store: Store;
  /** Stops ticking, lets running tasks finish up to the grace period, then closes everything. */
  shutdown(): Promise<void>;
}

export async function startServer(cfg: ServeConfig, log: Logger = createLogger("leoflow")): Promise<RunningServer> {
  mkdirSync(cfg.data_dir, { recursive: true });
  const store = openStore(cfg.db, { xcomMaxBytes: cfg.xcom_max_bytes });
  await store.migrate();
  const secret = cfg.jwt_secret ?? loadOrCreateSecret(cfg, log);
  const agentTokens = new AgentTokens(secret);
  const userTokens = cfg.auth === "none" ? null : new UserTokens(secret);
  if (userTokens) await announceAdmin(store, cfg, log);

  // Bind first: a taken port fails fast, and --port 0 learns its real port before agents need the URL.
  let handle: (req: Request) => Response | Promise<Response> = () =>
    Response.json({ detail: "leoflow is starting" }, { status: 503, headers: { "retry-after": "1" } });
  const server = Bun.serve({ hostname: cfg.host, port: cfg.port, idleTimeout: 120, fetch: (req) => handle(req) });
  const url = `http://${cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host}:${server.port}`;
  const controlPlaneUrl = cfg.advertise_url ?? `http://127.0.0.1:${server.port}`;
  let scheduler: SchedulerLoop | undefined;
  const standard = new SubprocessExecutor({
    selfCommand: selfCommand(),
    logger: log.child("subprocess"),
    onAgentExit: (exit) => void failIfUnreported(store, exit, log, (id) => scheduler?.wake(id)),
  });
  const router = new Router(standard);
  const dispatcher = new Dispatcher({ store, router, tokens: agentTokens, controlPlaneUrl, tokenTtlSeconds: cfg.agent_token_ttl });
  scheduler = new SchedulerLoop({
    store,
    dispatcher,
    logger: log.child("scheduler"),
    sweepIntervalMs: cfg.sweep_interval * 1000,
    parallelism: cfg.parallelism,
    executorName: standard.name,
  });
  const loop = scheduler;

  const dagSync = new DagFolderSync({
    folder: cfg.dags_folder,
    store,
    pausedOnCreate: cfg.dags_paused_at_creation,
    logger: log.child("dags"),
    onChange: () => loop.wake(),
  });
  const report = await dagSync.syncOnce();
  log.info("DAG folder loaded", { folder: cfg.dags_folder, ...summarize(report) });

  const rpc = createAgentRpcHandler({
    store,
    tokens: agentTokens,
    logger: log.child("rpc"),
    heartbeatIntervalSeconds: cfg.heartbeat_interval,
    onTaskStateChange: (runId) => loop.wake(runId),
  });
  const api = createApi({ store, tokens: userTokens, version: VERSION, scheduler: loop, logger: log.child("api") });
  handle = async (req) => (await rpc(req)) ?? api.fetch(req);
  dagSync.start();
  loop.start();
  log.info("leoflow is serving", { url, mode: cfg.mode, db: redactDb(cfg.db), executor: standard.name, version: VERSION });

  let closing: Promise<void> | null = null;
  return {
    url,
    store,
    shutdown: () =>
      (closing ??= (async () => {
        log.info("shutting down: scheduler stopped, letting running tasks finish", { grace_seconds: cfg.shutdown_grace });
        dagSync.stop();
        await loop.stop();
        // The API and RPC keep serving during the grace period so running agents can report.
        await Promise.all(router.all().map((e) => e.close?.(cfg.shutdown_grace * 1000)));
        await server.stop(true);
        await store.close();
        log.info("stopped");
      })()),
  };
}

/** An agent that exits without having reported a final state crashed: fail its try with the reason. */
async function failIfUnreported(store: Store, exit: AgentExit, log: Logger, wake: (runId: number) => void): Promise<void> {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
  const note = `agent ${how} before reporting a final state`;
  const now = new Date();
  try {
    const ti = await store.getTaskInstanceById(exit.taskInstanceId);
    if (!ti) return;
    const [applied] = await store.applyTransitions(
      [{ id: ti.id, from: ["queued", "running"], to: "failed", try_number: exit.tryNumber, patch: { end_date: now, note } }],
      now,
    );
    if (applied) {
      log.warn("task failed: " + note, { dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id, try_number: exit.tryNumber });
      wake(ti.dag_run_id);
    }
  } catch (e) {
    log.error("could not record an agent's exit", { error: e as Error });
  }
}

/** Lite keeps one generated signing secret in the data dir so tokens survive restarts. */
function loadOrCreateSecret(cfg: ServeConfig, log: Logger): string {
  if (cfg.mode === "pro")
    throw new Error("--mode=pro needs --jwt-secret (or LEOFLOW_JWT_SECRET) shared by every replica, at least 16 characters");
  const file = join(cfg.data_dir, "jwt-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, secret + "\n", { mode: 0o600 });
  log.info("generated a token signing secret", { file });
  return secret;
}

async function announceAdmin(store: Store, cfg: ServeConfig, log: Logger): Promise<void> {
  const { created, generatedPassword } = await ensureAdminUser(store, { password: cfg.admin_password, now: new Date() });
  if (generatedPassword)
    // Printed once, on stdout, so it does not end up mixed into structured logs.
    process.stdout.write(
      `\n  Leoflow admin user created.\n  username: admin\n  password: ${generatedPassword}\n  (shown once; set LEOFLOW_ADMIN_PASSWORD to choose it)\n\n`,
    );
  else if (created) log.info("admin user created with the password from LEOFLOW_ADMIN_PASSWORD");
}

function summarize(report: unknown): Record<string, unknown> {
  if (!report || typeof report !== "object") return {};
  return Object.fromEntries(Object.entries(report).filter(([, v]) => typeof v === "number"));
}

function redactDb(db: string): string {
  return db.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
