/**
 * The composition root: reads a ServeConfig and builds the object graph — store, DAG folder sync, executors,
 * dispatcher, scheduler, agent RPC and HTTP API — on one port. Nothing else wires modules together.
 */
import { mkdirSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { ServeConfig } from "./config";
import { passthroughEnv } from "./domain";
import { foreignKeyIds, openStore, readStoredSecrets, splitSchema, withSecrets, type SecretsCipher, type Store } from "./store";
import { createLogger, Metrics, type Logger } from "./observability";
import { EventHub, EVENTS_CHANNEL, channelFor, createServerEvents, withStoreEvents } from "./events";
import { LocalWakeBus, PgWakeBus, wakeChannelFor, type WakeBus } from "./events";
import { DagFolderSync, IsolatedDagParser, ParseCache } from "./dags";
import { Router, SubprocessExecutor, createDockerExecution, dockerInstanceId, type AgentExit, type DockerExecution } from "./executors";
import { InlineRunner, admitInlineTasks } from "./executors";
import { BufferedDispatcher, Dispatcher, DispatchRetryPolicy, tokenGraceSeconds } from "./dispatch";
import { CronRunCreator, Reapers, SchedulerLoop } from "./scheduler";
import { LeaderCampaign, PgLeaderLock, leaderLockIdFor } from "./scheduler";
// Only the prefix, eagerly: the RPC service itself (protobuf runtime and descriptors) loads after start-up.
import { AGENT_RPC_PREFIX } from "./rpc/prefix";
import { createApi } from "./api";
import { AgentTokens, UserTokens, ensureAdminUser, loadSecretsCipher } from "./auth";
import { isCompiledBinary, selfCommand } from "./agent";
import { VERSION } from "./version";

export interface RunningServer {
  url: string;
  store: Store;
  /** Stops ticking, lets running tasks finish up to the grace period, then closes everything. */
  shutdown(): Promise<void>;
}

export async function startServer(cfg: ServeConfig, log: Logger = createLogger("leoflow")): Promise<RunningServer> {
  mkdirSync(cfg.data_dir, { recursive: true });
  // Every state change goes through the store, so lifecycle events are emitted at that one door.
  const events = new EventHub();
  // Secrets (connection passwords and extras, secret variables) are sealed at the same door (store/secrets.ts).
  const cipher = loadSecretsCipher({ key: cfg.secrets_key, mode: cfg.mode, dataDir: cfg.data_dir, onGenerated: (file) => log.info("generated a secrets key", { file }) });
  const rawStore = openStore(cfg.db, { xcomMaxBytes: cfg.xcom_max_bytes });
  // Events go into the event log (in Pro shared by every replica, each streaming all of it); the hub fans
  // them out to this process's streams. The log reads and writes the raw store: its rows are not secrets.
  const eventsDb = splitSchema(cfg.db);
  const eventLog = createServerEvents({
    store: rawStore,
    hub: events,
    logger: log.child("events"),
    retention: { maxAgeMs: cfg.events_retention * 1000, maxRows: cfg.events_retention_rows },
    pg: cfg.mode === "pro" ? { url: eventsDb.url, channel: channelFor(EVENTS_CHANNEL, eventsDb.schema) } : undefined,
  });
  const store = withStoreEvents(withSecrets(rawStore, cipher), eventLog.log, (e) => log.warn("emitting a lifecycle event failed", { error: e as Error }));
  const metrics = new Metrics();
  await store.migrate();
  const secret = cfg.jwt_secret ?? loadOrCreateSecret(cfg, log);
  const agentTokens = new AgentTokens(secret);
  const userTokens = cfg.auth === "none" ? null : new UserTokens(secret);
  if (userTokens) {
    // Checking LEOFLOW_ADMIN_PASSWORD against an existing admin costs an argon2 verification (~80 ms in a fresh
    // process): do it off the start-up path. A first start still creates the admin before serving.
    if (cfg.admin_password !== undefined && (await store.getUser("admin")))
      void announceAdmin(store, cfg, log).catch((e) => log.error("updating the admin password failed", { error: e as Error }));
    else await announceAdmin(store, cfg, log);
  }

  // Bind first: a taken port fails fast, and --port 0 learns its real port before agents need the URL.
  let handle: (req: Request) => Response | Promise<Response> = () =>
    Response.json({ detail: "leoflow is starting" }, { status: 503, headers: { "retry-after": "1" } });
  const server = Bun.serve({ hostname: cfg.host, port: cfg.port, idleTimeout: 120, fetch: (req) => handle(req) });
  const url = `http://${cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host}:${server.port}`;
  const controlPlaneUrl = cfg.advertise_url ?? `http://127.0.0.1:${server.port}`;
  let scheduler: SchedulerLoop | undefined;
  const docker = cfg.executor === "docker" ? dockerExecution(cfg, store, log, (id) => scheduler?.wake(id), await store.createdAt()) : null;
  const standard = docker?.executor ?? new SubprocessExecutor({
    // LEOFLOW_AGENT_BINARY runs agents from another leoflow binary (fault tests point it at a missing file).
    selfCommand: process.env.LEOFLOW_AGENT_BINARY ? [process.env.LEOFLOW_AGENT_BINARY] : selfCommand(),
    logger: log.child("subprocess"),
    onAgentExit: (exit) => void failIfUnreported(store, exit, log, (id) => scheduler?.wake(id)),
    taskEnvPassthrough: cfg.task_env_passthrough,
  });
  // http tasks run in-process; the runner is also registered as the "inline" executor for any http task that
  // reaches the dispatcher the queued way (execution_mode: agent, which no agent runs).
  const inline = new InlineRunner({
    store,
    logger: log.child("inline"),
    concurrency: cfg.inline_concurrency,
    maxSeconds: cfg.inline_max_seconds,
    heartbeatIntervalMs: cfg.heartbeat_interval * 1000,
    wake: (id) => scheduler?.wake(id),
  });
  const router = new Router(standard, [inline.asExecutor()]);
  const tokenTtl = { ceilingSeconds: cfg.agent_token_ttl, queueWaitSeconds: cfg.dispatch_lost_after, graceSeconds: tokenGraceSeconds(cfg.agent_lost_after) };
  const dispatcher = new Dispatcher({ store, router, tokens: agentTokens, controlPlaneUrl, tokenTtl });
  const retryPolicy = new DispatchRetryPolicy({
    store,
    logger: log.child("dispatch"),
    maxAttempts: cfg.dispatch_retries,
    baseMs: cfg.dispatch_retry_base * 1000,
    wake: (id) => scheduler?.wake(id),
    events: eventLog.log,
    failures: metrics.counter("leoflow_dispatch_failures_total", "Failed task launches, by outcome (retry or dead_letter).", ["outcome"]),
  });
  const dispatchRetries = { onDispatchFailure: retryPolicy.onDispatchFailure, dispatchGate: retryPolicy };
  // A bounded launch queue so a slow executor never holds up the tick (Lite: 0 = inline passthrough).
  const buffered = new BufferedDispatcher({
    inner: dispatcher,
    bufferSize: cfg.dispatch_buffer,
    workers: cfg.dispatch_workers,
    logger: log.child("dispatch"),
    onFailure: (ti, e) => scheduler!.dispatchFailed(ti, e),
    onSpaceAvailable: () => scheduler?.wake(),
  });
  // Pro: one replica leads the scheduler (advisory lock); wake-ups reach it from any replica (LISTEN/NOTIFY).
  const pro = cfg.mode === "pro";
  const pg = splitSchema(cfg.db); // lock and channel are per deployment: per schema of the database
  let campaign: LeaderCampaign | null = null;
  const wakeBus: WakeBus = pro
    ? new PgWakeBus({ url: pg.url, channel: wakeChannelFor(pg.schema), logger: log.child("wake") })
    : new LocalWakeBus();
  scheduler = new SchedulerLoop({
    store,
    dispatcher: buffered,
    leaderGuard: pro ? () => campaign!.guard() : undefined,
    logger: log.child("scheduler"),
    sweepIntervalMs: cfg.sweep_interval * 1000,
    parallelism: cfg.parallelism,
    executorName: standard.name,
    inline,
    runCreator: new CronRunCreator({ store, logger: log.child("scheduler") }),
    reaper: new Reapers({
      store,
      logger: log.child("reaper"),
      thresholds: { agentLostAfterMs: cfg.agent_lost_after * 1000, dispatchLostAfterMs: cfg.dispatch_lost_after * 1000, orphanAfterMs: cfg.orphan_after * 1000 },
      reaped: metrics.counter("leoflow_reaped_total", "Task instances and dag runs failed by a reaper, by reason.", ["reason"]),
      // A reaped try may still be running (a hung agent, a container): every executor stops what it has of it.
      onTaskReaped: (t) => {
        for (const e of router.all())
          e.cancel?.(t.id, t.try_number).catch((err) => log.warn("stopping a reaped try failed", { ti_id: t.id, try_number: t.try_number, error: err as Error }));
      },
    }),
    ...dispatchRetries,
  });
  const loop = scheduler;
  if (pro) {
    const lock = new PgLeaderLock(pg.url, { lockId: leaderLockIdFor(pg.schema) });
    campaign = new LeaderCampaign({ lock, loop, logger: log.child("leader"), pollMs: cfg.leader_poll * 1000 });
  }
  wakeBus.subscribe((id) => {
    if (!campaign || campaign.isLeader) loop.wake(id);
  });
  const wake = (dagRunId?: number) => wakeBus.wake(dagRunId);
  registerProMetrics(metrics, buffered, campaign);
  metrics.gauge("leoflow_scheduler_healthy", "1 while the scheduler ticks on time (or does not lead), else 0.", () => (loop.health().status === "healthy" ? 1 : 0));
  metrics.gauge("leoflow_events_emitted_total", "Lifecycle events emitted on this replica since start.", () => eventLog.log.emitted, "counter");
  metrics.gauge("leoflow_events_appended_total", "Lifecycle events this replica appended to the event log.", () => eventLog.log.appended, "counter");
  metrics.gauge("leoflow_events_append_failures_total", "Failed appends to the event log (each retried).", () => eventLog.log.failures, "counter");
  metrics.gauge("leoflow_events_lost_total", "Lifecycle events never appended (the event log refused them too long).", () => eventLog.log.lost, "counter");
  metrics.gauge("leoflow_events_dropped_total", "Lifecycle events lost by subscribers that fell behind.", () => events.dropped, "counter");
  metrics.gauge("leoflow_event_subscribers", "Open event streams.", () => events.subscriberCount);
  metrics.gauge(
    "leoflow_inline_tasks_total",
    "Inline http task starts and outcomes (started, succeeded, failed, busy, rejected).",
    () => Object.entries(inline.metrics).map(([outcome, n]) => [{ outcome }, n]),
    "counter",
  );
  metrics.gauge("leoflow_inline_tasks_running", "Inline http tasks in flight.", () => inline.inFlight);

  // DAG files are parsed in child processes of this binary, never in the server (design: the wall around
  // user code); results are cached by content hash in the data dir, so a restart parses nothing unchanged.
  const dagParser = new IsolatedDagParser({
    command: selfCommand(),
    version: VERSION,
    limits: { timeoutMs: cfg.dag_parse_timeout * 1000, memoryBytes: cfg.dag_parse_memory },
    cache: await ParseCache.open(join(cfg.data_dir, "dag-parse-cache.json")),
  });
  const dagSync = new DagFolderSync({
    folder: cfg.dags_folder,
    store,
    parser: dagParser,
    pausedOnCreate: cfg.dags_paused_at_creation,
    logger: log.child("dags"),
    onChange: () => loop.wake(),
    admit: (spec) => [...(docker?.admit?.(spec) ?? []), ...admitInlineTasks(spec, cfg.inline_max_seconds)],
  });
  const report = await dagSync.syncOnce();
  log.info("DAG folder loaded", { folder: cfg.dags_folder, ...summarize(report), parse_processes: dagParser.stats.processes, parse_cache_hits: dagParser.stats.cacheHits });

  // The agent RPC loads in the background once the server answers (~30 ms of protobuf descriptors kept off
  // start-to-healthy); an agent call that arrives first waits for it.
  let rpcReady: Promise<(req: Request) => Promise<Response | null>> | undefined;
  const loadRpc = () =>
    (rpcReady ??= import("./rpc").then(({ createAgentRpcHandler }) =>
      createAgentRpcHandler({
        store,
        tokens: agentTokens,
        logger: log.child("rpc"),
        heartbeatIntervalSeconds: cfg.heartbeat_interval,
        maxBodyBytes: cfg.rpc_max_body,
        renewTokenTtlSeconds: cfg.agent_token_ttl,
        onTaskStateChange: (runId) => wake(runId),
      }),
    ));
  const api = createApi({ store, tokens: userTokens, version: VERSION, scheduler: { wake, health: () => loop.health() }, logger: log.child("api"), events, metrics, maxBodyBytes: cfg.api_max_body, trustedProxyHops: cfg.trusted_proxy_hops });
  handle = async (req) =>
    new URL(req.url).pathname.startsWith(AGENT_RPC_PREFIX) ? ((await (await loadRpc())(req)) ?? api.fetch(req, server)) : api.fetch(req, server);
  await docker?.start();
  dagSync.start();
  await wakeBus.start();
  await eventLog.start();
  if (campaign) campaign.start();
  else loop.start();
  if (pro && cfg.executor === "subprocess")
    log.warn("--executor=subprocess runs DAG code as plain processes on the leading replica's host, unsandboxed; use it only with trusted DAGs");
  log.info("leoflow is serving", { url, mode: cfg.mode, db: redactDb(cfg.db), executor: standard.name, version: VERSION });
  setTimeout(() => void loadRpc(), 0);
  void warnOfForeignSecrets(rawStore, cipher, log);

  let closing: Promise<void> | null = null;
  return {
    url,
    store,
    shutdown: () =>
      (closing ??= (async () => {
        log.info("shutting down: scheduler stopped, letting running tasks finish", { grace_seconds: cfg.shutdown_grace });
        dagSync.stop();
        // Stepping down frees the lock at once: another replica leads while this one drains.
        await (campaign ? campaign.stop() : loop.stop());
        await buffered.close();
        await docker?.stop();
        // The API and RPC keep serving during the grace period so running agents can report.
        await Promise.all(router.all().map((e) => e.close?.(cfg.shutdown_grace * 1000)));
        await server.stop(true);
        await wakeBus.close();
        await eventLog.close();
        await store.close();
        log.info("stopped");
      })()),
  };
}

/** Dispatch-buffer and leadership gauges for /metrics (leadership only in Pro). */
function registerProMetrics(metrics: Metrics, buffered: BufferedDispatcher, campaign: LeaderCampaign | null): void {
  const d = () => buffered.metrics();
  metrics.gauge("leoflow_dispatch_queue_depth", "Launches waiting in the dispatch buffer.", () => d().queue_depth);
  metrics.gauge("leoflow_dispatch_in_flight", "Launches a dispatch worker is running.", () => d().in_flight);
  metrics.gauge("leoflow_dispatch_at_capacity_total", "Launches refused by a full dispatch buffer (left scheduled).", () => d().at_capacity_total, "counter");
  metrics.gauge("leoflow_dispatch_inner_errors_total", "Launches the executor failed.", () => d().inner_errors_total, "counter");
  metrics.gauge("leoflow_dispatch_latency_seconds_sum", "Total time spent launching task instances.", () => d().latency_seconds.sum, "counter");
  metrics.gauge("leoflow_dispatch_latency_seconds_count", "Task instance launches timed.", () => d().latency_seconds.count, "counter");
  if (!campaign) return;
  metrics.gauge("leoflow_scheduler_leader", "1 while this replica leads the scheduler, else 0.", () => (campaign.isLeader ? 1 : 0));
  metrics.gauge(
    "leoflow_scheduler_step_downs_total",
    "Leader step-downs, by reason (lock_lost, check_failed, shutdown).",
    () => Object.entries(campaign.stats().step_downs).map(([reason, n]) => [{ reason }, n]),
    "counter",
  );
  metrics.gauge("leoflow_scheduler_reacquire_seconds", "Time without leadership of the last step-down → re-acquire cycle.", () => (campaign.stats().last_reacquire_ms ?? 0) / 1000);
}

/** The docker executor, its reconciler and its DAG allowlist, from the --docker-* flags. */
function dockerExecution(cfg: ServeConfig, store: Store, log: Logger, wake: (dagRunId: number) => void, storeCreatedAt: Date | null): DockerExecution {
  return createDockerExecution({
    settings: {
      host: cfg.docker_host,
      defaultImage: cfg.docker_default_image,
      network: cfg.docker_network,
      defaultCpu: cfg.docker_default_cpu,
      defaultMemory: cfg.docker_default_memory,
      pullPolicy: cfg.docker_pull_policy,
      user: cfg.docker_user,
      agentBinary: cfg.docker_agent_binary,
      pidsLimit: 1024,
      instance: dockerInstanceId(cfg.db.startsWith("sqlite:") ? resolve(cfg.db.slice(7)) : redactDb(cfg.db), storeCreatedAt),
      passthroughEnv: passthroughEnv(process.env, cfg.task_env_passthrough),
    },
    policy: {
      allowedImages: cfg.docker_allowed_images.split(",").map((p) => p.trim()).filter(Boolean),
      maxCpu: cfg.docker_max_cpu,
      maxMemory: cfg.docker_max_memory,
    },
    store,
    logger: log.child("docker"),
    compiledBinary: isCompiledBinary() ? process.execPath : null,
    removeGraceMs: cfg.docker_remove_grace * 1000,
    reconcileIntervalMs: cfg.docker_reconcile_interval * 1000,
    stagingTtlMs: cfg.docker_staging_ttl * 1000,
    onTaskFailed: wake,
  });
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

/** Secrets this server's key cannot open (a replica started with the wrong key) are named at start, off its path. */
async function warnOfForeignSecrets(raw: Store, cipher: SecretsCipher, log: Logger): Promise<void> {
  try {
    for (const [keyId, n] of foreignKeyIds(await readStoredSecrets(raw), cipher))
      log.error(`${n} stored secret(s) were encrypted under key id ${keyId}, not this server's key (id ${cipher.keyId}): reading them fails`, {
        fix: "start with the key they were written with (--secrets-key / LEOFLOW_SECRETS_KEY), or re-encrypt them with `leoflow secrets rotate`",
      });
  } catch (e) {
    log.warn("could not check the stored secrets against the secrets key", { error: e as Error });
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
  const { created, updated, generatedPassword } = await ensureAdminUser(store, { password: cfg.admin_password, now: new Date() });
  if (generatedPassword)
    // Printed once, on stdout, so it does not end up mixed into structured logs.
    process.stdout.write(
      `\n  Leoflow admin user created.\n  username: admin\n  password: ${generatedPassword}\n  (shown once; set LEOFLOW_ADMIN_PASSWORD to choose it)\n\n`,
    );
  else if (created) log.info("admin user created with the password from LEOFLOW_ADMIN_PASSWORD");
  else if (updated) log.info("admin password changed to the one in LEOFLOW_ADMIN_PASSWORD");
}

function summarize(report: unknown): Record<string, unknown> {
  if (!report || typeof report !== "object") return {};
  return Object.fromEntries(Object.entries(report).filter(([, v]) => typeof v === "number"));
}

function redactDb(db: string): string {
  return db.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
