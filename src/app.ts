/**
 * The composition root: reads a ServeConfig and builds the object graph — store, DAG folder sync, executors,
 * dispatcher, scheduler, agent RPC and HTTP API — on one port. Nothing else wires modules together.
 */
import { existsSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { ServeConfig } from "./config";
import { changedSettings } from "./config-file";
import { admitSensorFileRoots, inheritedTaskEnv, localServerUrl, passthroughEnv, redactUrl, toError } from "./domain";
import {
  LITE_OWNER_PREFIX,
  lockPostgresForServer,
  lockSqliteForServer,
  refuseBesideLiteServer,
  openStore,
  splitSchema,
  sqlitePathOf,
  withSecrets,
  type Store,
} from "./store";
import { configureLogging, createLogger, Metrics, startSystemdNotify, webhookDeliveries, type Logger } from "./observability";
import type { WakeBus } from "./events";
import type { DockerExecution, KubernetesExecution } from "./executors";
import type { LeaderCampaign, SchedulerLoop } from "./scheduler";
// Only the prefix, eagerly: the RPC service itself (protobuf runtime and descriptors) loads after start-up.
import { AGENT_RPC_PREFIX } from "./rpc/prefix";
import type { AgentRpc } from "./rpc";
import type { createApi } from "./api";
// Only the health report, eagerly: hono and the API's routes load in the background after start-up.
import { HEALTH_PATH, healthReport, startingHandler } from "./api/health";
import type { CallbackRunner } from "./callbacks";
// The secrets key and the token signing secret, eagerly: a start without the ones it needs fails before it binds
// (and before it reaches the database); the rest of auth (jose, users, tokens) loads with the wiring.
import { ADMIN_USERNAME } from "./auth/admin";
import { loadSecretsCipher } from "./auth/secrets-key";
import { loadSigningSecret } from "./auth/signing-secret";
import { admitSigningSecret, moveSigningFingerprint } from "./auth/signing-fingerprint";
import { isCompiledBinary, selfCommand, type ReportResult } from "./agent/launch";
import { VERSION } from "./version";

export interface RunningServer {
  url: string;
  store: Store;
  /** Stops ticking, lets running tasks finish up to the grace period, then closes everything. */
  shutdown(): Promise<void>;
  /** SIGHUP: applies what can change while running (log level and format) and rescans the DAG folder now. */
  reload(next: ServeConfig): Promise<void>;
}

/**
 * The modules the server is wired from once /health answers (startServer): the events, the executors, the
 * dispatcher, the scheduler and auth (jose). Before the bind a server needs only its configuration, the store
 * and the health report, so a restart answers its first health check before these are evaluated (scripts/bench
 * footprint: start-to-healthy); test/architecture/startup-graph.test.ts keeps them off that path.
 */
async function loadWiring() {
  // A turn of the event loop after each: a health check that comes in meanwhile waits for one module's
  // evaluation (~1 ms), not for all five.
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const events = await import("./events");
  await turn();
  const executors = await import("./executors");
  await turn();
  const dispatch = await import("./dispatch");
  await turn();
  const scheduler = await import("./scheduler");
  await turn();
  const auth = await import("./auth");
  return [events, executors, dispatch, scheduler, auth] as const;
}

/**
 * A Lite server on Postgres holds its database's scheduler lock (store/postgres/server-lock.ts). Lost to another
 * server while this one lives (its session dropped, and the other took it): this one stops, as SIGTERM would. (A Pro
 * replica takes no such lock, its replicas elect a leader, but refuses a database a Lite server runs: below.)
 */
async function litePostgresLock(pg: { url: string; schema?: string }, log: Logger) {
  return lockPostgresForServer(pg.url, {
    schema: pg.schema,
    owner: `${LITE_OWNER_PREFIX}pid ${process.pid} on ${hostname()}`,
    onLost: (holder) => {
      log.error("another server took this database's scheduler lock while this one's session was lost; stopping", {
        holder: holder ?? "unknown",
      });
      process.kill(process.pid, "SIGTERM");
    },
  });
}

/** --sensor-file-roots, else the DAGs folders and <data-dir>/staging when it exists (docs/sensors.md). */
function sensorFileRoots(cfg: ServeConfig): string[] {
  if (cfg.sensor_file_roots !== undefined)
    return cfg.sensor_file_roots
      .split(",")
      .map((r) => r.trim())
      .filter((r) => r !== "")
      .map((r) => resolve(r));
  const staging = join(cfg.data_dir, "staging");
  const folders = [cfg.dags_folder, ...cfg.team_dags_folders.map((f) => f.path)].filter((f) => f !== "");
  return [...folders, ...(existsSync(staging) ? [staging] : [])].map((f) => resolve(f));
}

export async function startServer(cfg: ServeConfig, log: Logger = createLogger("leoflow")): Promise<RunningServer> {
  mkdirSync(cfg.data_dir, { recursive: true });
  configureLogging({ level: cfg.log_level, format: cfg.log_format });
  // Before anything is written (the secrets key, the migration): a second server on the same file stops here.
  const sqlitePath = sqlitePathOf(cfg.db.trim());
  // A Postgres URL's schema (?search_path) names the deployment: its scheduler lock, its event and wake channels.
  const pg = splitSchema(cfg.db.trim());
  const serverLock = sqlitePath
    ? lockSqliteForServer(
        sqlitePath,
        `the leoflow server with pid ${process.pid} on ${hostname()} (--port ${cfg.port}, started ${new Date().toISOString()})`,
      )
    : cfg.mode === "lite"
      ? await litePostgresLock(pg, log)
      : null;
  const fileRoots = sensorFileRoots(cfg);
  // Secrets (connection passwords and extras, secret variables) are sealed at the store's door (store/secrets.ts).
  const cipher = loadSecretsCipher({
    key: cfg.secrets_key,
    mode: cfg.mode,
    dataDir: cfg.data_dir,
    onGenerated: (file) => log.info("generated a secrets key", { file }),
  });
  // After the settings are checked (a Pro replica without its keys says so first), before anything is written.
  if (cfg.mode === "pro") await refuseBesideLiteServer(pg.url, pg.schema);
  const rawStore = openStore(cfg.db, { xcomMaxBytes: cfg.xcom_max_bytes, backgroundCheckpoints: true });
  // Names this binary's release next to the schema versions when the store is newer than it (store/migrate.ts).
  await rawStore.migrate().catch((e) => {
    throw new Error(`${toError(e).message} (this binary is leoflow ${VERSION})`, { cause: e });
  });
  const secret = loadSigningSecret({
    secret: cfg.jwt_secret,
    mode: cfg.mode,
    dataDir: cfg.data_dir,
    onGenerated: (file) => log.info("generated a token signing secret", { file }),
  });
  // Pro: every replica must verify what the others sign; one started with another secret is refused here, before
  // it binds (auth/signing-fingerprint.ts). A rotating one moves the deployment's fingerprint on once it leads.
  const signingRotation =
    cfg.mode === "pro"
      ? await admitSigningSecret(
          rawStore,
          { current: secret, previousCsv: cfg.jwt_previous_secrets },
          { db: cfg.db, replica: `${hostname()} pid ${process.pid}${cfg.advertise_url ? ` ${cfg.advertise_url}` : ""}` },
          new Date(),
        )
      : null;

  let scheduler: SchedulerLoop | undefined;
  // /health answers from the bind on: the store is open and migrated. Everything below (the events, the admin,
  // executors, the scheduler, the DAG folders, the API) is loaded and built while it answers; other requests
  // wait for that. A start that fails below (an executor's setup, an unreadable DAG folder) still exits 1 with its
  // reason, after the bind.
  // Except on a first start that generates the admin's password: its /health waits for the wiring, so a script
  // that polls /health and then reads the password from the output finds it there. The one read of the admin
  // also tells the wiring below whether a given password is a restart's check or a first start's creation.
  const adminExists = cfg.auth !== "none" && (await rawStore.getUser(ADMIN_USERNAME)) !== null;
  const generatesPassword = cfg.auth !== "none" && cfg.admin_password === undefined && !adminExists;
  const starting = startingHandler({
    store: rawStore,
    scheduler: () => scheduler,
    logger: log.child("api"),
    healthWaits: generatesPassword,
  });
  let handle: (req: Request) => Response | Promise<Response> = starting.fetch;
  // Bind first: a taken port fails fast, and --port 0 learns its real port before agents need the URL.
  const server = Bun.serve({ hostname: cfg.host, port: cfg.port, idleTimeout: 120, fetch: (req) => handle(req) });
  const url = `http://${cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host}:${server.port}`;
  const controlPlaneUrl = cfg.advertise_url ?? localServerUrl(cfg.host, server.port!);
  // One turn of the event loop: a health check already waiting is answered now, before the wiring's first module
  // loads (loadWiring yields between modules; the building after it waits for no I/O before the DAG folder scan).
  await new Promise((r) => setTimeout(r, 0));
  const [
    {
      EventHub,
      EVENTS_CHANNEL,
      channelFor,
      createServerEvents,
      registerEventMetrics,
      registerTaskMetrics,
      withStoreEvents,
      RunEnds,
      LocalWakeBus,
      PgWakeBus,
      wakeChannelFor,
      WEBHOOK_INTEREST_REFRESH_MS,
      WebhookDeliverer,
      webhookChangeRelay,
      webhookEventSink,
    },
    { Router, SubprocessExecutor, InlineRunner, SensorChecks, admitInlineTasks, registerInlineMetrics },
    {
      BufferedDispatcher,
      Dispatcher,
      DispatchRetryPolicy,
      failIfUnreported,
      registerDispatchMetrics,
      TEAM_POLICY_TTL_MS,
      TeamPolicies,
      tokenGraceSeconds,
    },
    {
      CronRunCreator,
      Reapers,
      SchedulerLoop,
      SensorPoller,
      systemClock,
      LeaderCampaign,
      PgLeaderLock,
      ClusterHealth,
      leaderLockIdFor,
      registerSchedulerMetrics,
      registerStateGauges,
    },
    { AgentTokens, UserTokens, announceAdmin, parsePreviousSecrets, signingKeys, warnOfForeignSecrets },
  ] = await loadWiring();
  // Every state change goes through the store, so lifecycle events are emitted at that one door.
  const events = new EventHub();
  // Events go into the event log (in Pro shared by every replica, each streaming all of it); the hub fans
  // them out to this process's streams. The log reads and writes the raw store: its rows are not secrets.
  const eventLog = createServerEvents({
    store: rawStore,
    hub: events,
    logger: log.child("events"),
    retention: { maxAgeMs: cfg.events_retention * 1000, maxRows: cfg.events_retention_rows },
    pg: cfg.mode === "pro" ? { url: pg.url, channel: channelFor(EVENTS_CHANNEL, pg.schema) } : undefined,
  });
  const metrics = new Metrics();
  const runEnds = new RunEnds();
  const store = withStoreEvents(
    withSecrets(rawStore, cipher),
    eventLog.log,
    (e) => log.warn("emitting a lifecycle event failed", { error: toError(e) }),
    registerTaskMetrics(metrics).observe,
    runEnds,
  );
  const keys = signingKeys(secret, parsePreviousSecrets(cfg.jwt_previous_secrets));
  const agentTokens = new AgentTokens(keys);
  const userTokens = cfg.auth === "none" ? null : new UserTokens(keys, cfg.token_ttl);
  // Checking LEOFLOW_ADMIN_PASSWORD against an existing admin costs an argon2 verification (~80 ms of a core
  // in a fresh process): it runs once the server is serving, not beside its start-up. A first start creates
  // the admin before any request but /health is answered.
  let checkAdminPassword = () => {};
  if (userTokens) {
    const announcer = { info: (message: string) => log.info(message), print: (text: string) => void process.stdout.write(text) };
    const password = cfg.admin_password;
    if (password !== undefined && adminExists)
      checkAdminPassword = () =>
        void announceAdmin(store, password, announcer, new Date()).catch((e) =>
          log.error("updating the admin password failed", { error: toError(e) }),
        );
    else await announceAdmin(store, password, announcer, new Date());
  }

  // Where each team's tasks may run (teams.executor_policy): read for every team at most every few seconds.
  const teamPolicies = new TeamPolicies({ source: store, ttlMs: TEAM_POLICY_TTL_MS, logger: log.child("dispatch") });
  const docker =
    cfg.executor === "docker" ? await dockerExecution(cfg, store, log, (id) => scheduler?.wake(id), await store.createdAt()) : null;
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
  const subprocess =
    docker || kube
      ? null
      : new SubprocessExecutor({
          // LEOFLOW_AGENT_BINARY runs agents from another leoflow binary (fault tests point it at a missing file).
          selfCommand: process.env.LEOFLOW_AGENT_BINARY ? [process.env.LEOFLOW_AGENT_BINARY] : selfCommand(),
          logger: log.child("subprocess"),
          onAgentExit: (exit) => void failIfUnreported(store, exit, log, (id) => scheduler?.wake(id)),
          taskEnvPassthrough: cfg.task_env_passthrough,
          agentPool: { size: cfg.agent_pool, server: controlPlaneUrl, deferStart: true },
          // A warm agent's try is registered here and its answer piped with the assignment (rpc/register.ts).
          register: async (token, agent, started) => (await loadRpc()).registerForAgent(token, agent, new Date(), started),
          // and its report comes back on its pipe, to the same handler as over HTTP.
          report: async (id, body): Promise<ReportResult> => (await loadRpc()).reportForAgent(id, body),
          python: { venvsDir: join(cfg.data_dir, "venvs"), pipIndexUrl: cfg.pip_index_url, pipFindLinks: cfg.pip_find_links },
        });
  const standard = docker?.executor ?? kube?.executor ?? subprocess!;
  // http tasks run in-process; the runner is also registered as the "inline" executor for any http task that
  // reaches the dispatcher the queued way (execution_mode: agent, which no agent runs).
  const inline = new InlineRunner({
    store,
    logger: log.child("inline"),
    concurrency: cfg.inline_concurrency,
    maxSeconds: cfg.inline_max_seconds,
    heartbeatIntervalMs: cfg.heartbeat_interval * 1000,
    wake: (id) => scheduler?.wake(id),
    // A freed slot goes straight to the next waiting inline task when the scheduler's rules allow (refill.ts).
    slots: {
      ending: (ti, spec) => scheduler?.inlineSlots.ending(ti, spec),
      successor: (ti, succeeded) => scheduler?.inlineSlots.successor(ti, succeeded),
      freed: (ti, ended, succeeded, handed) => scheduler?.inlineSlots.freed(ti, ended, succeeded, handed),
    },
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
    // A dead-lettered launch is also queued for the webhooks that want it (events/webhook-sink.ts).
    events: webhookEventSink(eventLog.log, store, (e) => log.warn("queueing a webhook event failed", { error: toError(e) })),
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
  let campaign: LeaderCampaign | null = null;
  const wakeBus: WakeBus = pro
    ? new PgWakeBus({
        url: pg.url,
        channel: wakeChannelFor(pg.schema),
        logger: log.child("wake"),
        leading: () => campaign?.isLeader ?? false,
      })
    : new LocalWakeBus();
  scheduler = new SchedulerLoop({
    store,
    dispatcher: buffered,
    leaderGuard: pro ? () => campaign!.guard() : undefined,
    logger: log.child("scheduler"),
    sweepIntervalMs: cfg.sweep_interval * 1000,
    parallelism: cfg.parallelism,
    maxMapLength: cfg.max_map_length,
    executorName: standard.name,
    inline,
    // Team quotas (max_running_tasks, max_pool_slots, max_inline_requests), read once per sweep.
    teams: store,
    // Sensors wait deferred and are checked here, on the leader, without a process or a slot (docs/sensors.md).
    sensors: new SensorPoller({
      store,
      checker: new SensorChecks(store, { fileRoots }),
      clock: systemClock,
      logger: log.child("sensors"),
      wake: (id) => scheduler?.wake(id),
    }),
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
    // A chain's next task on a warm agent starts with its upstream's end: the agent takes it registered. Only
    // while an agent is idle, so the launch follows the write within a turn: a task started for an agent that
    // must first start (~40 ms) would, should the server die meanwhile, wait for agent_lost (a retry spent)
    // where a queued one is dispatched again by dispatch_lost.
    startOnHandOff:
      subprocess && cfg.agent_pool > 0
        ? { accepts: (task) => router.executorFor(task) === subprocess && subprocess.hasIdleAgent(), hostname: hostname() }
        : undefined,
    onTick: (report) => {
      tickMetrics.onTick(report);
      clusterHealth?.ticked();
    },
  });
  const loop = scheduler;
  if (pro) {
    const lock = new PgLeaderLock(pg.url, { lockId: leaderLockIdFor(pg.schema) });
    campaign = new LeaderCampaign({
      lock,
      loop,
      logger: log.child("leader"),
      pollMs: cfg.leader_poll * 1000,
      // A frozen leader keeps its lock (its session lives on): a follower that sees it silent that long deposes it.
      takeover: { afterMs: cfg.leader_takeover_after * 1000, heartbeat: () => store.latestSchedulerHeartbeat() },
      // A new leader reconciles the pods at once: the old leader's may have ended while no one watched.
      onRoleChange: (role) => {
        kube?.reconciler.leadershipChanged(role === "leader");
        callbacks?.leadershipChanged(role === "leader");
        webhooks.leadershipChanged(role === "leader");
        // The event stream too (every replica streams the shared log), named as the webhook names it.
        if (role === "leader") eventLog.log.emit({ type: "scheduler.leader_changed", leader: replicaName });
        if (role === "leader" && signingRotation)
          void moveSigningFingerprint(store, signingRotation, secret, replicaName, new Date()).then(
            (moved) => moved && log.info("the deployment's token signing secret is now this replica's --jwt-secret (rotated)"),
            (e) =>
              log.warn("recording the rotated signing secret's fingerprint failed; the next leadership tries again", { error: toError(e) }),
          );
      },
    });
    // The leader writes most run ends; a replica that does not lead sees them in the shared event log.
    const leading = campaign;
    runEnds.follow(events, () => !leading.isLeader);
  }
  // DAG and task callbacks and deadline alerts (below, loaded once /health answers).
  let callbacks: CallbackRunner | undefined;
  // Replicas on one host, or hosts named alike, told apart: the host, the pid and the URL agents reach it at.
  const replicaName = `${hostname()} pid ${process.pid} ${controlPlaneUrl}`;
  // Pro: a replica that does not lead reports the cluster's scheduler from the leader's shared heartbeat.
  const leaderCampaign = campaign;
  const clusterHealth = leaderCampaign
    ? new ClusterHealth({
        store,
        replica: replicaName,
        leading: () => leaderCampaign.isLeader,
        local: () => loop.health(),
        loopStaleMs: loop.healthStaleMs,
        logger: log.child("leader"),
      })
    : null;
  const schedulerHealth = { health: () => clusterHealth?.health() ?? loop.health() };
  // Webhook deliveries: their own timers, bounded requests, the leader only (events/webhook-delivery.ts).
  const webhooks = new WebhookDeliverer({
    store,
    metrics,
    isLeader: () => !campaign || campaign.isLeader,
    retry: { maxAttempts: cfg.webhook_max_attempts, baseDelayMs: cfg.webhook_retry_base * 1000 },
    timeoutMs: cfg.webhook_timeout * 1000,
    retentionMs: cfg.webhook_retention * 1000,
    refreshInterestMs: pro ? WEBHOOK_INTEREST_REFRESH_MS : undefined,
    replica: replicaName,
    onError: (e) => log.warn("webhook delivery failed to reach the store", { error: toError(e) }),
  });
  wakeBus.subscribe((id) => {
    if (!campaign || campaign.isLeader) loop.wake(id);
  });
  // Pro: a webhook changed through another replica applies to this one's outbox writes at once.
  const webhookChanges = webhookChangeRelay(wakeBus, store, (e) => log.warn("re-reading the webhooks failed", { error: toError(e) }));
  const wake = (dagRunId?: number) => wakeBus.wake(dagRunId);
  registerDispatchMetrics(metrics, buffered);
  const tickMetrics = registerSchedulerMetrics(metrics, loop, campaign);
  registerStateGauges(metrics, store);
  webhookDeliveries(metrics);
  registerEventMetrics(metrics, eventLog.log, events);
  registerInlineMetrics(metrics, inline);

  // The DAG folder machinery and the callback runner are first needed here, after /health answers: their
  // modules load now instead of on the start-up path (scripts/bench footprint). A failed import fails the start.
  const [{ DagFolderSync, IsolatedDagParser, ParseCache, TeamDagFolders, planTeamFolders }, { CallbackRunner }] = await Promise.all([
    import("./dags"),
    import("./callbacks"),
  ]);
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
          ...admitSensorFileRoots(spec, fileRoots),
        ],
      }),
    })),
  );
  // The agent RPC (protobuf descriptors: ~30 ms) loads on the first agent call, which waits for it.
  let rpcReady: Promise<AgentRpc> | undefined;
  const loadRpc = (): Promise<AgentRpc> =>
    (rpcReady ??= import("./rpc").then(({ createAgentRpc }) =>
      createAgentRpc({
        store,
        tokens: agentTokens,
        logger: log.child("rpc"),
        heartbeatIntervalSeconds: cfg.heartbeat_interval,
        maxBodyBytes: cfg.rpc_max_body,
        maxTryLogBytes: cfg.task_log_max_bytes,
        renewTokenTtlSeconds: cfg.agent_token_ttl,
        onTaskStateChange: (runId) => wake(runId),
        // A success may queue its chain's next task in the same write: on the leader, whose loop queued the try.
        handOff: (t, at) => {
          if (campaign && !campaign.isLeader) return undefined;
          subprocess?.reported(t.id, t.try_number);
          return loop.agentHandOff(t, at);
        },
      }),
    ));
  // The API (hono, its routes and schemas: tens of ms) loads on the first request other than a health check
  // (/api/v2/monitor/health is answered from api/health.ts until then), which waits for it.
  let api: ReturnType<typeof createApi> | null = null;
  let apiReady: Promise<ReturnType<typeof createApi>> | undefined;
  const loadApi = () => (apiReady ??= import("./api").then(({ createApi }) => (api = createApi(apiDeps))));
  const apiDeps: Parameters<typeof createApi>[0] = {
    store,
    tokens: userTokens,
    version: VERSION,
    scheduler: {
      wake,
      health: () => schedulerHealth.health(),
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
    runEnds,
    metrics,
    maxBodyBytes: cfg.api_max_body,
    trustedProxyHops: cfg.trusted_proxy_hops,
    testConnection: cfg.test_connection === "Enabled",
    config: cfg,
    dagFiles: { reparse: async (team, file) => void (await dagSync.reparse(team, file)) },
    webhooks: { poke: () => webhooks.poke(), changed: () => webhookChanges.changed() },
  };
  const healthSources = { store, scheduler: schedulerHealth, logger: log.child("api") };
  handle = async (req) => {
    const path = new URL(req.url).pathname;
    if (path.startsWith(AGENT_RPC_PREFIX)) return (await (await loadRpc()).handle(req)) ?? (api ?? (await loadApi())).fetch(req, server);
    if (!api && path === HEALTH_PATH && req.method === "GET") return Response.json(await healthReport(healthSources));
    return (api ?? (await loadApi())).fetch(req, server);
  };
  starting.ready(handle);
  await docker?.start();
  await kube?.start();
  await wakeBus.start();
  await eventLog.start();
  // On the leader: they read the event log, never the tick's path.
  callbacks = new CallbackRunner({
    store,
    // Missed deadlines and failed callbacks are also queued for the webhooks that want them.
    events: webhookEventSink(eventLog.log, store, (e) => log.warn("queueing a webhook event failed", { error: toError(e) })),
    logger: log.child("callbacks"),
    metrics,
    active: () => !campaign || campaign.isLeader,
    // ts callbacks run in a child of this binary with a task's environment allowlist, as DAG files are parsed.
    ts: { command: selfCommand(), env: inheritedTaskEnv(process.env, cfg.task_env_passthrough) },
  });
  // This process's own events reach it from memory once appended; others' (Pro replicas) from the log.
  const runner = callbacks;
  eventLog.onAppended((appended) => runner.offer(appended));
  // Off the start-up path: it reads its cursor and the active runs' deadlines while the server comes up.
  void callbacks.start();
  webhooks.start();
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
  // The API (hono, zod, the route schemas) and the agent RPC load on their first request, not here: an idle
  // server never pays for them (~5 MiB RSS; scripts/bench footprint), and a request that comes first waits
  // for the import (tens of ms, once). Both are code in this binary, so readiness below stays honest.
  subprocess?.startAgentPool();
  checkAdminPassword();
  void warnOfForeignSecrets(rawStore, cipher, log);
  // Type=notify units: ready now that the server answers; watchdog pings follow the scheduler's health.
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
        await callbacks?.stop();
        await wakeBus.close();
        await webhooks.stop();
        await eventLog.close();
        await store.close();
        serverLock?.release();
        log.info("stopped");
      })()),
  };
}

/** The kubernetes executor, its reconciler, staging PVCs and DAG allowlist, from --namespace, --kubeconfig and the --k8s-* flags. */
async function kubernetesExecution(
  cfg: ServeConfig,
  store: Store,
  log: Logger,
  wake: (dagRunId: number) => void,
  isLeader: () => boolean,
  storeCreatedAt: Date | null,
  teamNamespaces: () => Promise<string[]>,
): Promise<KubernetesExecution> {
  const { loadKubernetesSetup, AGENT_BINARY_IN_IMAGE, dockerInstanceId } = await import("./executors");
  const { createKubernetesExecution } = await loadKubernetesSetup();
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
async function dockerExecution(
  cfg: ServeConfig,
  store: Store,
  log: Logger,
  wake: (dagRunId: number) => void,
  storeCreatedAt: Date | null,
): Promise<DockerExecution> {
  const { loadDockerSetup, dockerInstanceId } = await import("./executors");
  const { createDockerExecution } = await loadDockerSetup();
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
