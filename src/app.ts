/**
 * The composition root: reads a ServeConfig and builds the object graph — store, DAG folder sync, executors,
 * dispatcher, scheduler, agent RPC and HTTP API — on one port. Nothing else wires modules together.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ServeConfig } from "./config";
import { changedSettings } from "./config-file";
import { passthroughEnv, redactUrl, toError } from "./domain";
import { openStore, splitSchema, withSecrets, type Store } from "./store";
import { configureLogging, createLogger, Metrics, startSystemdNotify, type Logger } from "./observability";
import { EventHub, EVENTS_CHANNEL, channelFor, createServerEvents, registerEventMetrics, withStoreEvents } from "./events";
import { LocalWakeBus, PgWakeBus, wakeChannelFor, type WakeBus } from "./events";
import { DagFolderSync, IsolatedDagParser, ParseCache, TeamDagFolders, planTeamFolders } from "./dags";
import { Router, SubprocessExecutor, createDockerExecution, dockerInstanceId, type DockerExecution } from "./executors";
import { AGENT_BINARY_IN_IMAGE, createKubernetesExecution, type KubernetesExecution } from "./executors";
import { InlineRunner, admitInlineTasks, registerInlineMetrics } from "./executors";
import {
  BufferedDispatcher,
  Dispatcher,
  DispatchRetryPolicy,
  failIfUnreported,
  registerDispatchMetrics,
  TEAM_POLICY_TTL_MS,
  TeamPolicies,
  tokenGraceSeconds,
} from "./dispatch";
import { CronRunCreator, Reapers, SchedulerLoop } from "./scheduler";
import { LeaderCampaign, PgLeaderLock, leaderLockIdFor, registerSchedulerMetrics } from "./scheduler";
// Only the prefix, eagerly: the RPC service itself (protobuf runtime and descriptors) loads after start-up.
import { AGENT_RPC_PREFIX } from "./rpc/prefix";
import { createApi } from "./api";
import {
  AgentTokens,
  UserTokens,
  announceAdmin,
  loadSecretsCipher,
  loadSigningSecret,
  parsePreviousSecrets,
  signingKeys,
  warnOfForeignSecrets,
} from "./auth";
import { isCompiledBinary, selfCommand } from "./agent";
import { VERSION } from "./version";

export interface RunningServer {
  url: string;
  store: Store;
  /** Stops ticking, lets running tasks finish up to the grace period, then closes everything. */
  shutdown(): Promise<void>;
  /** SIGHUP: applies what can change while running (log level and format) and rescans the DAG folder now. */
  reload(next: ServeConfig): Promise<void>;
}

export async function startServer(cfg: ServeConfig, log: Logger = createLogger("leoflow")): Promise<RunningServer> {
  mkdirSync(cfg.data_dir, { recursive: true });
  configureLogging({ level: cfg.log_level, format: cfg.log_format });
  // Every state change goes through the store, so lifecycle events are emitted at that one door.
  const events = new EventHub();
  // Secrets (connection passwords and extras, secret variables) are sealed at the same door (store/secrets.ts).
  const cipher = loadSecretsCipher({
    key: cfg.secrets_key,
    mode: cfg.mode,
    dataDir: cfg.data_dir,
    onGenerated: (file) => log.info("generated a secrets key", { file }),
  });
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
  const store = withStoreEvents(withSecrets(rawStore, cipher), eventLog.log, (e) =>
    log.warn("emitting a lifecycle event failed", { error: toError(e) }),
  );
  const metrics = new Metrics();
  // Names this binary's release next to the schema versions when the store is newer than it (store/migrate.ts).
  await store.migrate().catch((e) => {
    throw new Error(`${toError(e).message} (this binary is leoflow ${VERSION})`, { cause: e });
  });
  const secret = loadSigningSecret({
    secret: cfg.jwt_secret,
    mode: cfg.mode,
    dataDir: cfg.data_dir,
    onGenerated: (file) => log.info("generated a token signing secret", { file }),
  });
  const keys = signingKeys(secret, parsePreviousSecrets(cfg.jwt_previous_secrets));
  const agentTokens = new AgentTokens(keys);
  const userTokens = cfg.auth === "none" ? null : new UserTokens(keys, cfg.token_ttl);
  if (userTokens) {
    // Checking LEOFLOW_ADMIN_PASSWORD against an existing admin costs an argon2 verification (~80 ms in a fresh
    // process): do it off the start-up path. A first start still creates the admin before serving.
    const announcer = { info: (message: string) => log.info(message), print: (text: string) => void process.stdout.write(text) };
    if (cfg.admin_password !== undefined && (await store.getUser("admin")))
      void announceAdmin(store, cfg.admin_password, announcer, new Date()).catch((e) =>
        log.error("updating the admin password failed", { error: toError(e) }),
      );
    else await announceAdmin(store, cfg.admin_password, announcer, new Date());
  }

  // Bind first: a taken port fails fast, and --port 0 learns its real port before agents need the URL.
  let handle: (req: Request) => Response | Promise<Response> = () =>
    Response.json({ detail: "leoflow is starting" }, { status: 503, headers: { "retry-after": "1" } });
  const server = Bun.serve({ hostname: cfg.host, port: cfg.port, idleTimeout: 120, fetch: (req) => handle(req) });
  const url = `http://${cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host}:${server.port}`;
  const controlPlaneUrl = cfg.advertise_url ?? `http://127.0.0.1:${server.port}`;
  let scheduler: SchedulerLoop | undefined;
  // Where each team's tasks may run (teams.executor_policy): read for every team at most every few seconds.
  const teamPolicies = new TeamPolicies({ source: store, ttlMs: TEAM_POLICY_TTL_MS, logger: log.child("dispatch") });
  const docker = cfg.executor === "docker" ? dockerExecution(cfg, store, log, (id) => scheduler?.wake(id), await store.createdAt()) : null;
  // The pod reconciler acts on the leader only (campaign is set below, before anything starts).
  const kube =
    cfg.executor === "kubernetes"
      ? await kubernetesExecution(
          cfg,
          store,
          log,
          (id) => scheduler?.wake(id),
          () => campaign?.isLeader ?? true,
          await store.createdAt(),
          async () => (await teamPolicies.all()).flatMap((t) => t.executor_policy.kubernetes_namespace ?? []),
        )
      : null;
  const standard =
    docker?.executor ??
    kube?.executor ??
    new SubprocessExecutor({
      // LEOFLOW_AGENT_BINARY runs agents from another leoflow binary (fault tests point it at a missing file).
      selfCommand: process.env.LEOFLOW_AGENT_BINARY ? [process.env.LEOFLOW_AGENT_BINARY] : selfCommand(),
      logger: log.child("subprocess"),
      onAgentExit: (exit) => void failIfUnreported(store, exit, log, (id) => scheduler?.wake(id)),
      taskEnvPassthrough: cfg.task_env_passthrough,
      agentPool: { size: cfg.agent_pool, server: controlPlaneUrl },
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
  const tokenTtl = {
    ceilingSeconds: cfg.agent_token_ttl,
    queueWaitSeconds: cfg.dispatch_lost_after,
    graceSeconds: tokenGraceSeconds(cfg.agent_lost_after),
  };
  const dispatcher = new Dispatcher({ store, router, tokens: agentTokens, controlPlaneUrl, tokenTtl, policies: teamPolicies });
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
    // Team quotas (max_running_tasks, max_pool_slots, max_inline_requests), read once per sweep.
    teams: store,
    runCreator: new CronRunCreator({ store, logger: log.child("scheduler") }),
    reaper: new Reapers({
      store,
      logger: log.child("reaper"),
      thresholds: {
        agentLostAfterMs: cfg.agent_lost_after * 1000,
        dispatchLostAfterMs: cfg.dispatch_lost_after * 1000,
        orphanAfterMs: cfg.orphan_after * 1000,
      },
      reaped: metrics.counter("leoflow_reaped_total", "Task instances and dag runs failed by a reaper, by reason.", ["reason"]),
      // A reaped try may still be running (a hung agent, a container): every executor stops what it has of it.
      onTaskReaped: (t) => {
        for (const e of router.all())
          e.cancel?.(t.id, t.try_number).catch((err) =>
            log.warn("stopping a reaped try failed", { ti_id: t.id, try_number: t.try_number, error: toError(err) }),
          );
      },
    }),
    ...dispatchRetries,
  });
  const loop = scheduler;
  if (pro) {
    const lock = new PgLeaderLock(pg.url, { lockId: leaderLockIdFor(pg.schema) });
    campaign = new LeaderCampaign({
      lock,
      loop,
      logger: log.child("leader"),
      pollMs: cfg.leader_poll * 1000,
      // A new leader reconciles the pods at once: the old leader's may have ended while no one watched.
      onRoleChange: (role) => kube?.reconciler.leadershipChanged(role === "leader"),
    });
  }
  wakeBus.subscribe((id) => {
    if (!campaign || campaign.isLeader) loop.wake(id);
  });
  const wake = (dagRunId?: number) => wakeBus.wake(dagRunId);
  registerDispatchMetrics(metrics, buffered);
  registerSchedulerMetrics(metrics, loop, campaign);
  registerEventMetrics(metrics, eventLog.log, events);
  registerInlineMetrics(metrics, inline);

  // DAG files are parsed in child processes of this binary, never in the server (design: the wall around
  // user code); results are cached by content hash in the data dir, so a restart parses nothing unchanged.
  const dagParser = new IsolatedDagParser({
    command: selfCommand(),
    version: VERSION,
    limits: { timeoutMs: cfg.dag_parse_timeout * 1000, memoryBytes: cfg.dag_parse_memory },
    cache: await ParseCache.open(join(cfg.data_dir, "dag-parse-cache.json")),
  });
  // One folder per team, each synced into its team only. A team a folder names is created with default
  // settings when missing: folders are configuration, so the server does what its flags say, and logs it.
  const folderPlans = await planTeamFolders(cfg);
  for (const plan of folderPlans)
    if (await store.ensureTeam(plan.team, new Date()))
      log.info("team created for its DAGs folder (no quotas; change them with the teams API)", { team: plan.team, folder: plan.folder });
  const dagSync = new TeamDagFolders(
    folderPlans.map((plan) => ({
      team: plan.team,
      sync: new DagFolderSync({
        team: plan.team,
        folder: plan.folder,
        topOnly: plan.topOnly,
        store,
        parser: dagParser,
        pausedOnCreate: cfg.dags_paused_at_creation,
        logger: log.child("dags"),
        onChange: () => loop.wake(),
        admit: (spec) => [
          ...(docker?.admit?.(spec) ?? []),
          ...(kube?.admit(spec) ?? []),
          ...admitInlineTasks(spec, cfg.inline_max_seconds),
        ],
      }),
    })),
  );
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
  const api = createApi({
    store,
    tokens: userTokens,
    version: VERSION,
    scheduler: {
      wake,
      health: () => loop.health(),
      // A team created or changed through the API: its quotas and executor policy apply from the next tick. In
      // pro the leader may be another replica: the wake bus makes it sweep, and a sweep reads the quotas.
      teamsChanged: () => {
        teamPolicies.forget();
        loop.teamsChanged();
        if (pro) wake();
      },
    },
    logger: log.child("api"),
    events,
    metrics,
    maxBodyBytes: cfg.api_max_body,
    trustedProxyHops: cfg.trusted_proxy_hops,
    testConnection: cfg.test_connection === "Enabled",
    config: cfg,
    dagFiles: { reparse: async (team, file) => void (await dagSync.reparse(team, file)) },
  });
  handle = async (req) =>
    new URL(req.url).pathname.startsWith(AGENT_RPC_PREFIX)
      ? ((await (await loadRpc())(req)) ?? api.fetch(req, server))
      : api.fetch(req, server);
  await docker?.start();
  await kube?.start();
  await wakeBus.start();
  await eventLog.start();
  if (campaign) campaign.start();
  else loop.start();
  // The first scan of the DAG folders runs while /health, the API and the scheduler already answer (it may
  // parse files in child processes: seconds for a large folder). "leoflow is serving" is logged after it,
  // so whoever waits for that line finds the folder's DAGs in the store; a folder that cannot be read
  // still fails the start.
  for (const [team, report] of await dagSync.syncOnce())
    log.info("DAG folder loaded", {
      team,
      folder: folderPlans.find((p) => p.team === team)?.folder,
      ...summarize(report),
      parse_processes: dagParser.stats.processes,
      parse_cache_hits: dagParser.stats.cacheHits,
    });
  dagSync.start();
  if (pro && cfg.executor === "subprocess")
    log.warn(
      "--executor=subprocess runs DAG code as plain processes on the leading replica's host, unsandboxed; use it only with trusted DAGs",
    );
  log.info("leoflow is serving", { url, mode: cfg.mode, db: redactUrl(cfg.db), executor: standard.name, version: VERSION });
  setTimeout(() => void loadRpc(), 0);
  void warnOfForeignSecrets(rawStore, cipher, log);
  // Type=notify units: ready now that the API answers; watchdog pings follow the scheduler's health.
  const systemd = await startSystemdNotify({
    env: process.env,
    logger: log.child("systemd"),
    status: `serving ${url}`,
    healthy: () => loop.health().status === "healthy",
  });

  let closing: Promise<void> | null = null;
  return {
    url,
    store,
    reload: async (next) => {
      configureLogging({ level: next.log_level, format: next.log_format });
      const restart = changedSettings(cfg, next).filter((k) => k !== "log_level" && k !== "log_format");
      if (restart.length) log.warn("reload: these settings change only on restart", { settings: restart.join(",") });
      log.info("reload: log settings applied, rescanning the DAG folder", { log_level: next.log_level, log_format: next.log_format });
      for (const [team, report] of await dagSync.syncOnce()) log.info("reload: DAG folder rescanned", { team, ...summarize(report) });
    },
    shutdown: () =>
      (closing ??= (async () => {
        log.info("shutting down: scheduler stopped, letting running tasks finish", { grace_seconds: cfg.shutdown_grace });
        systemd?.stopping();
        dagSync.stop();
        // Stepping down frees the lock at once: another replica leads while this one drains.
        await (campaign ? campaign.stop() : loop.stop());
        await buffered.close();
        await docker?.stop();
        await kube?.stop();
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

/** The kubernetes executor, its reconciler, staging PVCs and DAG allowlist, from --namespace, --kubeconfig and the --k8s-* flags. */
function kubernetesExecution(
  cfg: ServeConfig,
  store: Store,
  log: Logger,
  wake: (dagRunId: number) => void,
  isLeader: () => boolean,
  storeCreatedAt: Date | null,
  teamNamespaces: () => Promise<string[]>,
): Promise<KubernetesExecution> {
  return createKubernetesExecution({
    settings: {
      namespace: cfg.namespace,
      agentImage: cfg.k8s_agent_image,
      agentImageBinary: AGENT_BINARY_IN_IMAGE,
      defaultImage: cfg.k8s_default_image,
      defaultCpu: cfg.k8s_default_cpu,
      defaultMemory: cfg.k8s_default_memory,
      pullPolicy: cfg.k8s_image_pull_policy,
      serviceAccount: cfg.k8s_service_account,
      automountServiceAccountToken: cfg.k8s_automount_token,
      nodeSelector: cfg.k8s_node_selector,
      tolerations: cfg.k8s_tolerations,
      runAsUser: cfg.k8s_user.uid,
      runAsGroup: cfg.k8s_user.gid,
      podGraceSeconds: cfg.k8s_pod_grace,
      taskSecret: cfg.k8s_task_secret,
      caConfigMap: cfg.k8s_ca_configmap,
      stagingStorageClass: cfg.k8s_staging_storage_class,
      stagingSize: cfg.k8s_staging_size,
      // The same id as the docker executor's: one per store, so installs sharing a namespace never clash.
      instance: dockerInstanceId(cfg.db.startsWith("sqlite:") ? resolve(cfg.db.slice(7)) : redactUrl(cfg.db), storeCreatedAt),
      passthroughEnv: passthroughEnv(process.env, cfg.task_env_passthrough),
    },
    policy: {
      allowedImages: cfg.k8s_allowed_images
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean),
      maxCpu: cfg.k8s_max_cpu,
      maxMemory: cfg.k8s_max_memory,
    },
    kubeconfig: cfg.kubeconfig,
    store,
    logger: log.child("kubernetes"),
    callTimeoutMs: 10_000,
    removeGraceMs: cfg.k8s_remove_grace * 1000,
    pendingLimitMs: cfg.k8s_pending_limit * 1000,
    resyncMs: 10_000,
    stagingTtlMs: cfg.k8s_staging_ttl * 1000,
    stagingAccessMode: cfg.k8s_staging_access_mode,
    isLeader,
    onTaskFailed: wake,
    extraNamespaces: teamNamespaces,
  });
}

/** The docker executor, its reconciler and its DAG allowlist, from the --docker-* flags. */
function dockerExecution(
  cfg: ServeConfig,
  store: Store,
  log: Logger,
  wake: (dagRunId: number) => void,
  storeCreatedAt: Date | null,
): DockerExecution {
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
      instance: dockerInstanceId(cfg.db.startsWith("sqlite:") ? resolve(cfg.db.slice(7)) : redactUrl(cfg.db), storeCreatedAt),
      passthroughEnv: passthroughEnv(process.env, cfg.task_env_passthrough),
    },
    policy: {
      allowedImages: cfg.docker_allowed_images
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean),
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

function summarize(report: unknown): Record<string, unknown> {
  if (!report || typeof report !== "object") return {};
  return Object.fromEntries(Object.entries(report).filter(([, v]) => typeof v === "number"));
}
