/**
 * Config: one object built from command-line flags, LEOFLOW_* environment variables and defaults, in that
 * order of precedence, checked by config-rules.ts so a bad value is refused with the flag's name and a fix.
 */
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "./args";
import * as v from "./config-rules";
import {
  DEFAULT_TEAM,
  ValidationError,
  isLoopback,
  parsePassthrough,
  parseSecretsKey,
  errorMessage,
  parseTeamFolders,
  parseMemoryBytes,
  parseNanoCpus,
  redactUrl,
} from "./domain";
// The executors' flag rules only, not their barrel: `serve` reads its flags before it binds, and the
// executors' code (the inline runner, the subprocess pool, …) loads once /health answers (app.ts).
import { PULL_POLICIES } from "./executors/docker/settings";
import { parseNodeSelector, parseRunAs, parseTolerations } from "./executors/kubernetes/settings";
import { readConfigFile, tomlKey } from "./config-file";

const MODES = ["lite", "pro"] as const;
const EXECUTORS = ["subprocess", "docker", "kubernetes"] as const;
/** The least --leader-takeover-after: well above a GC pause or a busy event loop, and two of the heartbeat's writes (5 s). */
export const LEADER_TAKEOVER_MIN_S = 10;

/** A byte size flag: "4194304", "4Mi", "512Ki", "1G"; at least `min` bytes. */
function byteSize(min: number) {
  return v.custom((raw) => {
    const n = typeof raw === "string" || typeof raw === "number" ? parseMemoryBytes(raw) : null;
    if (n === null) throw new Error(`expects a size in bytes or with a unit such as "4Mi", got "${String(raw)}"`);
    if (n < min) throw new Error(`must be at least ${min} bytes, got ${n}`);
    return n;
  });
}

const ServeConfigSchema = v.object({
  mode: v.oneOf(MODES),
  db: v.string().min(1),
  /** The team `default`'s DAG folder; "" when only other teams' folders were given (TEAM=PATH). */
  dags_folder: v.string(),
  /** Folders of other teams (`--dags-folder TEAM=PATH`). */
  team_dags_folders: v.built<{ team: string; path: string }[]>(),
  dags_folder_layout: v.oneOf(["single", "teams"]),
  /** Comma-separated folders file sensors may read; absent: the DAGs folders and <data-dir>/staging (app.ts). */
  sensor_file_roots: v.string().optional(),
  host: v.string().min(1),
  port: v.number().int().min(0).max(65535),
  advertise_url: v.string().url().optional(),
  auth: v.oneOf(["jwt", "none"]),
  trusted_proxy_hops: v.number().int().min(0),
  /** Airflow's [core] test_connection: POST /connections/test answers 403 unless Enabled. */
  test_connection: v.oneOf(["Disabled", "Enabled", "Hidden"]),
  executor: v.oneOf(EXECUTORS),
  parallelism: v.number().int().min(1),
  dags_paused_at_creation: v.boolean(),
  dag_parse_timeout: v.number().positive(),
  // A parse process alone takes ~50 MiB; below 64 MiB every DAG file would fail.
  dag_parse_memory: byteSize(64 * 2 ** 20),
  data_dir: v.string().min(1),
  xcom_max_bytes: v.number().int().min(1024),
  max_map_length: v.number().int().min(1),
  agent_token_ttl: v.number().int().min(60),
  rpc_max_body: byteSize(64 * 1024),
  task_log_max_bytes: byteSize(1024 * 1024),
  api_max_body: byteSize(64 * 1024),
  heartbeat_interval: v.number().int("whole seconds (the agent protocol carries an integer)").min(1),
  shutdown_grace: v.number().min(0),
  sweep_interval: v.number().min(0.05),
  agent_lost_after: v.number().positive(),
  dispatch_lost_after: v.number().positive(),
  orphan_after: v.number().positive(),
  dispatch_retries: v.number().int().min(1),
  dispatch_retry_base: v.number().min(0),
  webhook_max_attempts: v.number().int().min(1),
  webhook_retry_base: v.number().min(0),
  webhook_timeout: v.number().positive(),
  webhook_retention: v.number().positive(),
  jwt_secret: v.string().min(16).optional(),
  jwt_previous_secrets: v.string().optional(),
  token_ttl: v.number().int().min(60),
  secrets_key: v
    .string()
    .transform((key) => (parseSecretsKey(key, "the key"), key))
    .optional(),
  // --- Pro runtime (leader election, buffered dispatch) ---
  leader_poll: v.number().min(0.05),
  /** 0 = never; else at least LEADER_TAKEOVER_MIN_S (checked in loadServeConfig, beside --leader-poll). */
  leader_takeover_after: v.number().min(0),
  dispatch_buffer: v.number().int().min(0),
  dispatch_workers: v.number().int().min(0),
  admin_password: v.string().min(1).optional(),
  // --- Docker executor ---
  docker_host: v.string().regex(/^(unix|tcp|http):\/\/./, "expects unix:///path/to/docker.sock or tcp://host:port"),
  docker_default_image: v.string().min(1),
  docker_network: v.string().min(1),
  docker_default_cpu: v.string().refine((v) => parseNanoCpus(v) !== null, 'expects a CPU quantity such as "1" or "500m"'),
  docker_default_memory: v.string().refine((v) => parseMemoryBytes(v) !== null, 'expects a memory quantity such as "512Mi"'),
  docker_pull_policy: v.oneOf(PULL_POLICIES),
  docker_user: v.string(),
  docker_agent_binary: v.string().min(1).optional(),
  docker_allowed_images: v.string(),
  docker_max_cpu: v
    .string()
    .refine((v) => parseNanoCpus(v) !== null, 'expects a CPU quantity such as "4"')
    .optional(),
  docker_max_memory: v
    .string()
    .refine((v) => parseMemoryBytes(v) !== null, 'expects a memory quantity such as "8Gi"')
    .optional(),
  docker_remove_grace: v.number().min(0),
  docker_reconcile_interval: v.number().min(0.1),
  docker_staging_ttl: v.number().min(0),
  // --- Kubernetes executor ---
  namespace: v
    .string()
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/, "expects a namespace name (lowercase letters, digits, '-')")
    .max(63),
  kubeconfig: v.string().min(1).optional(),
  k8s_agent_image: v.string().min(1),
  k8s_default_image: v.string().min(1),
  k8s_default_cpu: v.string().refine((v) => parseNanoCpus(v) !== null, 'expects a CPU quantity such as "1" or "500m"'),
  k8s_default_memory: v.string().refine((v) => parseMemoryBytes(v) !== null, 'expects a memory quantity such as "512Mi"'),
  k8s_max_cpu: v
    .string()
    .refine((v) => parseNanoCpus(v) !== null, 'expects a CPU quantity such as "4"')
    .optional(),
  k8s_max_memory: v
    .string()
    .refine((v) => parseMemoryBytes(v) !== null, 'expects a memory quantity such as "8Gi"')
    .optional(),
  k8s_allowed_images: v.string(),
  k8s_image_pull_policy: v.oneOf(PULL_POLICIES),
  k8s_service_account: v.string(),
  k8s_automount_token: v.boolean(),
  k8s_node_selector: v.string().transform(parseNodeSelector),
  k8s_tolerations: v.string().transform(parseTolerations),
  k8s_user: v.string().transform(parseRunAs),
  k8s_pod_grace: v.number().int().min(0),
  k8s_task_secret: v.string(),
  k8s_ca_configmap: v.string(),
  k8s_staging_storage_class: v.string(),
  k8s_staging_size: v.string().refine((v) => parseMemoryBytes(v) !== null, 'expects a storage quantity such as "1Gi"'),
  k8s_staging_access_mode: v.oneOf(["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"]),
  k8s_staging_ttl: v.number().min(0),
  k8s_remove_grace: v.number().min(0),
  k8s_pending_limit: v.number().positive(),
  // --- Inline http tasks ---
  inline_concurrency: v.number().int().min(1),
  // --- Subprocess executor ---
  agent_pool: v.number().int().min(0).max(1024),
  /** Where pip installs a DAG's requirements from ("" = pip's default index; agent/python-venv.ts). */
  pip_index_url: v.string(),
  pip_find_links: v.string(),
  inline_max_seconds: v.number().positive(),
  // --- Lifecycle event log (resume with Last-Event-ID) ---
  events_retention: v.number().positive(),
  events_retention_rows: v.number().int().min(1000),
  // --- Logging (reloaded on SIGHUP) ---
  log_level: v.oneOf(["debug", "info", "warn", "error"]),
  log_format: v.oneOf(["text", "json"]),
  // --- Task environment ---
  task_env_passthrough: v.string().transform((text) => {
    const { problems, patterns } = parsePassthrough(text);
    if (problems.length) throw new Error(problems.join("; "));
    return patterns;
  }),
});
export type ServeConfig = v.Infer<typeof ServeConfigSchema.shape>;

/** Flag name → [type, env var, default, help]. The help text of `leoflow serve --help` is generated from this. */
export const SERVE_FLAGS = {
  mode: ["string", "LEOFLOW_MODE", "lite", "lite (SQLite, subprocess tasks) or pro (Postgres, leader election)"],
  db: ["string", "LEOFLOW_DB", undefined, "sqlite:PATH or postgres://user@host:5432/db (default sqlite:<data-dir>/leoflow.db)"],
  "dags-folder": [
    "string",
    "LEOFLOW_DAGS_FOLDER",
    "./dags",
    "folder of dag.json / dag.yaml / .ts DAG files (team default); TEAM=PATH is the folder of TEAM (repeat the flag; comma-separated in env and file)",
  ],
  "dags-folder-layout": [
    "string",
    "LEOFLOW_DAGS_FOLDER_LAYOUT",
    "single",
    "single, or teams: each top-level subfolder of --dags-folder is the folder of the team of that name (files at the top stay in team default)",
  ],
  "sensor-file-roots": [
    "string",
    "LEOFLOW_SENSOR_FILE_ROOTS",
    undefined,
    "comma-separated folders file sensors may look under; a path outside is refused (default: the DAGs folders and <data-dir>/staging)",
  ],
  host: ["string", "LEOFLOW_HOST", "127.0.0.1", "address to listen on"],
  port: ["number", "LEOFLOW_PORT", 8080, "port for the API, UI and agent RPC"],
  "advertise-url": [
    "string",
    "LEOFLOW_ADVERTISE_URL",
    undefined,
    "URL agents use to reach this server (default http://HOST:PORT, 127.0.0.1 when --host is 0.0.0.0)",
  ],
  auth: ["string", "LEOFLOW_AUTH", "jwt", "jwt, or none (accepted only when listening on loopback)"],
  "test-connection": [
    "string",
    "LEOFLOW_TEST_CONNECTION",
    "Disabled",
    "Enabled lets POST /api/v2/connections/test reach the hosts users name (http, https, postgres); Disabled or Hidden (default Disabled, as Airflow) answer 403",
  ],
  "trusted-proxy-hops": [
    "number",
    "LEOFLOW_TRUSTED_PROXY_HOPS",
    0,
    "reverse proxies in front of the server whose X-Forwarded-For names the client (login throttling); 0 ignores the header",
  ],
  executor: ["string", "LEOFLOW_EXECUTOR", undefined, "subprocess | docker | kubernetes (default: lite subprocess, pro kubernetes)"],
  parallelism: ["number", "LEOFLOW_PARALLELISM", 32, "task instances running at once, across all DAGs"],
  "agent-pool": [
    "number",
    "LEOFLOW_AGENT_POOL",
    undefined,
    "subprocess executor: agents kept started and ready for tries (default: the number of cores; 0 starts one per try)",
  ],
  "pip-index-url": [
    "string",
    "LEOFLOW_PIP_INDEX_URL",
    "",
    "subprocess executor: the package index pip installs DAGs' python requirements from (default pip's own, PyPI)",
  ],
  "pip-find-links": [
    "string",
    "LEOFLOW_PIP_FIND_LINKS",
    "",
    "subprocess executor: a folder (or URL) of wheels for DAGs' python requirements; alone, pip installs from it only (--no-index)",
  ],
  "dags-paused-at-creation": ["boolean", "LEOFLOW_DAGS_PAUSED_AT_CREATION", false, "new DAGs start paused"],
  "dag-parse-timeout": [
    "number",
    "LEOFLOW_DAG_PARSE_TIMEOUT",
    30,
    "seconds a DAG file may take to parse (its import runs in a child process)",
  ],
  "dag-parse-memory": ["string", "LEOFLOW_DAG_PARSE_MEMORY", "512Mi", "memory a DAG file's parse process may use (512Mi, 1Gi, or bytes)"],
  "data-dir": ["string", "LEOFLOW_DATA_DIR", "./.leoflow", "where Lite keeps its database and secrets"],
  "xcom-max-bytes": ["number", "LEOFLOW_XCOM_MAX_BYTES", 1048576, "largest XCom value, in bytes of JSON"],
  "max-map-length": ["number", "LEOFLOW_MAX_MAP_LENGTH", 1024, "most task instances one mapped task may expand to (docs/mapping.md)"],
  "agent-token-ttl": [
    "number",
    "LEOFLOW_AGENT_TOKEN_TTL",
    3600,
    "seconds an agent token of a task without execution_timeout stays valid (renewed on heartbeat while the try runs)",
  ],
  "rpc-max-body": [
    "string",
    "LEOFLOW_RPC_MAX_BODY",
    "4Mi",
    "largest agent RPC request body, in bytes or with a unit (4Mi); larger ones are refused unread",
  ],
  "task-log-max-bytes": [
    "string",
    "LEOFLOW_TASK_LOG_MAX_BYTES",
    "128Mi",
    "most log bytes one try stores through the agent door (above the agent's own 100 MiB cap); past it one note, the rest dropped",
  ],
  "api-max-body": ["string", "LEOFLOW_API_MAX_BODY", "1Mi", "largest HTTP API request body, in bytes or with a unit (1Mi)"],
  "heartbeat-interval": ["number", "LEOFLOW_HEARTBEAT_INTERVAL", 5, "seconds between agent heartbeats"],
  "shutdown-grace": ["number", "LEOFLOW_SHUTDOWN_GRACE", 10, "seconds to let running tasks finish on SIGTERM"],
  "sweep-interval": ["number", "LEOFLOW_SWEEP_INTERVAL", 1, "seconds between full scheduler sweeps (wake-ups are event-driven)"],
  "agent-lost-after": ["number", "LEOFLOW_AGENT_LOST_AFTER", 60, "seconds of heartbeat silence before a running task fails as agent_lost"],
  "dispatch-lost-after": [
    "number",
    "LEOFLOW_DISPATCH_LOST_AFTER",
    300,
    "seconds a queued task may wait for its agent before it fails as dispatch_lost",
  ],
  "orphan-after": [
    "number",
    "LEOFLOW_ORPHAN_AFTER",
    600,
    "seconds without activity before a running run with no active task fails as orphaned",
  ],
  "dispatch-retries": ["number", "LEOFLOW_DISPATCH_RETRIES", 3, "launch attempts per try before a task fails as dispatch_failed"],
  "dispatch-retry-base": [
    "number",
    "LEOFLOW_DISPATCH_RETRY_BASE",
    5,
    "seconds before the 2nd launch attempt; doubles for each further one",
  ],
  "webhook-max-attempts": [
    "number",
    "LEOFLOW_WEBHOOK_MAX_ATTEMPTS",
    3,
    "attempts per webhook delivery before it is dead (listed with its last error, redeliverable)",
  ],
  "webhook-retry-base": [
    "number",
    "LEOFLOW_WEBHOOK_RETRY_BASE",
    5,
    "seconds before a webhook delivery's 2nd attempt; doubles for each further one",
  ],
  "webhook-timeout": ["number", "LEOFLOW_WEBHOOK_TIMEOUT", 10, "seconds a webhook receiver has to answer one delivery"],
  "webhook-retention": [
    "number",
    "LEOFLOW_WEBHOOK_RETENTION",
    7 * 24 * 3600,
    "seconds delivered webhook deliveries are kept (dead ones 4 times as long, unless redelivered)",
  ],
  "jwt-secret": ["string", "LEOFLOW_JWT_SECRET", undefined, "secret signing API and agent tokens (Lite generates one in data-dir)"],
  "jwt-previous-secrets": [
    "string",
    "LEOFLOW_JWT_PREVIOUS_SECRETS",
    undefined,
    "comma-separated secrets that signed earlier tokens, still accepted until those tokens expire (rotate --jwt-secret without logging everyone out)",
  ],
  "token-ttl": ["number", "LEOFLOW_TOKEN_TTL", 86400, "seconds a user token from POST /auth/token stays valid (Airflow's default: 24 h)"],
  "secrets-key": [
    "string",
    "LEOFLOW_SECRETS_KEY",
    undefined,
    "32-byte key (hex or base64) encrypting connection passwords and secret variables; pro: required, the same on every replica (Lite generates one in data-dir)",
  ],
  // --- Pro runtime ---
  "leader-poll": [
    "number",
    "LEOFLOW_LEADER_POLL",
    1,
    "seconds between leadership attempts of a follower (pro), and lock checks of the leader",
  ],
  "leader-takeover-after": [
    "number",
    "LEOFLOW_LEADER_TAKEOVER_AFTER",
    30,
    "seconds the leader's heartbeat and its lock session may both stand still before a follower ends that session and takes over (pro: a frozen leader keeps its lock otherwise); at least 10 and 3 --leader-poll, 0 never",
  ],
  "dispatch-buffer": [
    "number",
    "LEOFLOW_DISPATCH_BUFFER",
    undefined,
    "launches queued for dispatch workers; 0 = inline passthrough (default lite 0, pro 1024)",
  ],
  "dispatch-workers": ["number", "LEOFLOW_DISPATCH_WORKERS", undefined, "launches running at once when buffered (default pro 16)"],
  // --- Docker executor ---
  "docker-host": [
    "string",
    "LEOFLOW_DOCKER_HOST",
    undefined,
    "docker engine address; also DOCKER_HOST (default unix:///var/run/docker.sock)",
  ],
  "docker-default-image": [
    "string",
    "LEOFLOW_DOCKER_DEFAULT_IMAGE",
    "debian:bookworm-slim",
    "image for tasks that set none (needs glibc for the bind-mounted agent)",
  ],
  "docker-network": ["string", "LEOFLOW_DOCKER_NETWORK", "host", "network mode of task containers (must reach --advertise-url)"],
  "docker-default-cpu": ["string", "LEOFLOW_DOCKER_DEFAULT_CPU", "1", "CPU limit of a task that sets none"],
  "docker-default-memory": ["string", "LEOFLOW_DOCKER_DEFAULT_MEMORY", "512Mi", "memory limit of a task that sets none"],
  "docker-pull-policy": [
    "string",
    "LEOFLOW_DOCKER_PULL_POLICY",
    "if_not_present",
    "always | if_not_present | never (a task's image_pull_policy wins)",
  ],
  "docker-user": ["string", "LEOFLOW_DOCKER_USER", "65534:65534", "uid:gid tasks run as; empty keeps the image's USER"],
  "docker-agent-binary": [
    "string",
    "LEOFLOW_DOCKER_AGENT_BINARY",
    undefined,
    "host path of the leoflow binary mounted into containers (default: this binary)",
  ],
  "docker-allowed-images": [
    "string",
    "LEOFLOW_DOCKER_ALLOWED_IMAGES",
    "",
    "comma-separated image patterns DAGs may use (* wildcard; empty: any)",
  ],
  "docker-max-cpu": ["string", "LEOFLOW_DOCKER_MAX_CPU", undefined, "largest CPU a task may ask for (DAGs above it are refused at load)"],
  "docker-max-memory": [
    "string",
    "LEOFLOW_DOCKER_MAX_MEMORY",
    undefined,
    "largest memory a task may ask for (DAGs above it are refused at load)",
  ],
  "docker-remove-grace": ["number", "LEOFLOW_DOCKER_REMOVE_GRACE", 60, "seconds a finished container is kept before removal"],
  "docker-reconcile-interval": ["number", "LEOFLOW_DOCKER_RECONCILE_INTERVAL", 5, "seconds between docker reconciler passes"],
  "docker-staging-ttl": ["number", "LEOFLOW_DOCKER_STAGING_TTL", 86400, "seconds a failed run's staging volume is kept"],
  // --- Kubernetes executor ---
  namespace: [
    "string",
    "LEOFLOW_NAMESPACE",
    "",
    "namespace of task pods, secrets and staging PVCs (default: the kubeconfig context's, or the server pod's)",
  ],
  kubeconfig: [
    "string",
    "LEOFLOW_KUBECONFIG",
    undefined,
    "kubeconfig file (default: in-cluster config in a pod, else KUBECONFIG or ~/.kube/config)",
  ],
  "k8s-agent-image": [
    "string",
    "LEOFLOW_K8S_AGENT_IMAGE",
    "leoflow:latest",
    "the Leoflow image (deploy/kubernetes/Dockerfile) an init container copies the agent binary from",
  ],
  "k8s-default-image": [
    "string",
    "LEOFLOW_K8S_DEFAULT_IMAGE",
    "debian:bookworm-slim",
    "image for tasks that set none (needs glibc for the copied agent)",
  ],
  "k8s-default-cpu": ["string", "LEOFLOW_K8S_DEFAULT_CPU", "1", "CPU limit of a task that sets none"],
  "k8s-default-memory": ["string", "LEOFLOW_K8S_DEFAULT_MEMORY", "512Mi", "memory limit of a task that sets none"],
  "k8s-max-cpu": ["string", "LEOFLOW_K8S_MAX_CPU", undefined, "largest CPU a task may ask for (DAGs above it are refused at load)"],
  "k8s-max-memory": [
    "string",
    "LEOFLOW_K8S_MAX_MEMORY",
    undefined,
    "largest memory a task may ask for (DAGs above it are refused at load)",
  ],
  "k8s-allowed-images": [
    "string",
    "LEOFLOW_K8S_ALLOWED_IMAGES",
    "",
    "comma-separated image patterns DAGs may use (* wildcard; empty: any)",
  ],
  "k8s-image-pull-policy": [
    "string",
    "LEOFLOW_K8S_IMAGE_PULL_POLICY",
    "if_not_present",
    "always | if_not_present | never (a task's image_pull_policy wins)",
  ],
  "k8s-service-account": ["string", "LEOFLOW_K8S_SERVICE_ACCOUNT", "", "service account of task pods (default: the namespace's default)"],
  "k8s-automount-token": ["boolean", "LEOFLOW_K8S_AUTOMOUNT_TOKEN", false, "mount the service account's API token into task pods"],
  "k8s-node-selector": ["string", "LEOFLOW_K8S_NODE_SELECTOR", "", "node selector of task pods: key=value,key=value"],
  "k8s-tolerations": ["string", "LEOFLOW_K8S_TOLERATIONS", "", 'tolerations of task pods, as JSON: [{"key":"batch","operator":"Exists"}]'],
  "k8s-user": ["string", "LEOFLOW_K8S_USER", "65534:65534", "uid:gid task pods run as (never root)"],
  "k8s-pod-grace": ["number", "LEOFLOW_K8S_POD_GRACE", 30, "seconds between SIGTERM and SIGKILL when a task pod is deleted"],
  "k8s-task-secret": [
    "string",
    "LEOFLOW_K8S_TASK_SECRET",
    "",
    "a Secret mounted read-only in every task pod at /var/run/secrets/leoflow/task",
  ],
  "k8s-ca-configmap": ["string", "LEOFLOW_K8S_CA_CONFIGMAP", "", "a ConfigMap whose ca.crt the agent trusts for --advertise-url's TLS"],
  "k8s-staging-storage-class": [
    "string",
    "LEOFLOW_K8S_STAGING_STORAGE_CLASS",
    "",
    "storage class of staging PVCs (default: the cluster's)",
  ],
  "k8s-staging-size": ["string", "LEOFLOW_K8S_STAGING_SIZE", "1Gi", "size of a staging PVC whose DAG sets none"],
  "k8s-staging-access-mode": [
    "string",
    "LEOFLOW_K8S_STAGING_ACCESS_MODE",
    "ReadWriteOnce",
    "ReadWriteOnce | ReadWriteMany (tasks of a run on several nodes) | ReadWriteOncePod",
  ],
  "k8s-staging-ttl": ["number", "LEOFLOW_K8S_STAGING_TTL", 86400, "seconds a failed run's staging PVC is kept"],
  "k8s-remove-grace": ["number", "LEOFLOW_K8S_REMOVE_GRACE", 60, "seconds a finished task pod is kept before deletion"],
  "k8s-pending-limit": ["number", "LEOFLOW_K8S_PENDING_LIMIT", 300, "seconds a pod may be stuck pulling its image before its try fails"],
  // --- Inline http tasks ---
  "inline-concurrency": [
    "number",
    "LEOFLOW_INLINE_CONCURRENCY",
    64,
    "inline http tasks running at once (more wait, scheduled, for a free slot)",
  ],
  "inline-max-seconds": [
    "number",
    "LEOFLOW_INLINE_MAX_SECONDS",
    300,
    "longest an inline http task may run; DAGs asking for more are refused at load",
  ],
  "events-retention": [
    "number",
    "LEOFLOW_EVENTS_RETENTION",
    86400,
    "seconds lifecycle events are kept for clients resuming with Last-Event-ID",
  ],
  "events-retention-rows": [
    "number",
    "LEOFLOW_EVENTS_RETENTION_ROWS",
    100000,
    "most lifecycle events kept for clients resuming with Last-Event-ID",
  ],
  // --- Logging ---
  "log-level": ["string", "LEOFLOW_LOG_LEVEL", "info", "debug | info | warn | error (SIGHUP re-reads it)"],
  "log-format": ["string", "LEOFLOW_LOG_FORMAT", undefined, "text | json (default json under systemd's journal, else text)"],
  // --- Task environment ---
  "task-env-passthrough": [
    "string",
    "LEOFLOW_TASK_ENV_PASSTHROUGH",
    "",
    "comma-separated server variables tasks may see besides PATH, HOME, LANG, LC_*, TZ (globs: AWS_*); never LEOFLOW_*",
  ],
} as const satisfies Record<string, readonly ["string" | "number" | "boolean", string, unknown, string]>;

type FlagName = keyof typeof SERVE_FLAGS;

/** Builds and validates the serve config. Throws ValidationError naming the flag and how to fix it. */
export function loadServeConfig(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  /** The config file read when neither --config nor LEOFLOW_CONFIG names one, if it exists (main.ts: /etc/leoflow/leoflow.toml). */
  defaultConfigFile: string | null = null,
): ServeConfig {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        [...Object.entries(SERVE_FLAGS), ["config", ["string"]] as const].map(([name, [type]]) => [
          name,
          { type: type === "boolean" ? "boolean" : "string", multiple: name === "dags-folder" },
        ]),
      ),
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new ValidationError(`${errorMessage(e)}. Run 'leoflow serve --help' for the flags.`);
  }
  // The lowest layer above the defaults (config-file.ts): flags > LEOFLOW_* env > file > defaults.
  const layer = readConfigFile((values.config as string | undefined) ?? env.LEOFLOW_CONFIG, defaultConfigFile, SERVE_FLAGS);
  const file = layer.values;
  const raw: Record<string, unknown> = {};
  const issues: { path: string; message: string }[] = [];
  // Where each setting's value came from, so a bad one is named as the user wrote it: the flag, the LEOFLOW_*
  // variable or the file's key (a user who set LEOFLOW_PORT=abc looks for LEOFLOW_PORT, not --port).
  const source: Record<string, string> = {};
  for (const [name, [type, envName, def]] of Object.entries(SERVE_FLAGS) as [FlagName, (typeof SERVE_FLAGS)[FlagName]][]) {
    const given = values[name] ?? env[envName] ?? file[name];
    const from =
      values[name] === undefined && env[envName] !== undefined
        ? envName
        : values[name] === undefined && file[name] !== undefined
          ? `${layer.path}: ${tomlKey(name)}`
          : `--${name}`;
    source[name.replaceAll("-", "_")] = from;
    let value: unknown = given ?? def;
    if (given !== undefined && type === "number") {
      value = Number(given);
      if (given === "" || Number.isNaN(value)) issues.push({ path: from, message: `expects a number, got "${given}"` });
    }
    if (given !== undefined && type === "boolean" && typeof given === "string") {
      if (!/^(1|0|true|false|yes|no)$/i.test(given)) issues.push({ path: from, message: `expects true or false, got "${given}"` });
      value = /^(1|true|yes)$/i.test(given);
    }
    raw[name.replaceAll("-", "_")] = value;
  }
  Object.assign(raw, dagsFolders(values["dags-folder"], env.LEOFLOW_DAGS_FOLDER ?? file["dags-folder"], issues));
  raw.admin_password = env.LEOFLOW_ADMIN_PASSWORD ?? file["admin-password"];
  raw.log_format ??= env.JOURNAL_STREAM ? "json" : "text"; // systemd sets JOURNAL_STREAM when stderr goes to the journal
  const mode = (raw.mode as string) ?? "lite";
  raw.executor ??= mode === "pro" ? "kubernetes" : "subprocess";
  raw.db ??= `sqlite:${raw.data_dir}/leoflow.db`;
  raw.dispatch_buffer ??= mode === "pro" ? 1024 : 0;
  raw.dispatch_workers ??= mode === "pro" ? 16 : 0;
  raw.agent_pool ??= availableParallelism();
  raw.docker_host ??= env.DOCKER_HOST || "unix:///var/run/docker.sock";
  if (issues.length) throw configError(issues);
  const parsed = ServeConfigSchema.parse(raw);
  if (!parsed.ok)
    throw configError(parsed.issues.map((i) => ({ path: source[i.path] ?? `--${i.path.replaceAll("_", "-")}`, message: i.message })));
  const cfg = parsed.value;
  // Checked here, not left to the start's mkdir: its "EEXIST: file already exists" names neither the setting nor the problem.
  if (statSync(cfg.data_dir, { throwIfNoEntry: false })?.isDirectory() === false)
    throw configError([
      { path: source.data_dir!, message: `"${cfg.data_dir}" is a file, not a folder; name a folder (it is created when missing)` },
    ]);
  if (cfg.mode === "pro" && !/^postgres(ql)?:\/\//.test(cfg.db))
    throw configError([
      {
        path: "--mode=pro",
        message: `needs a Postgres store for leader election, but --db is "${redactUrl(cfg.db)}"; pass --db=postgres://user@host:5432/leoflow, or run --mode=lite`,
      },
    ]);
  if (cfg.agent_token_ttl < 4 * cfg.heartbeat_interval)
    throw configError([
      {
        path: "--agent-token-ttl",
        message: `(${cfg.agent_token_ttl} s) must be at least 4 heartbeats (--heartbeat-interval ${cfg.heartbeat_interval} s): running agents renew their token on heartbeat once it is past half its life`,
      },
    ]);
  const takeoverMin = Math.max(LEADER_TAKEOVER_MIN_S, 3 * cfg.leader_poll);
  if (cfg.leader_takeover_after !== 0 && cfg.leader_takeover_after < takeoverMin)
    throw configError([
      {
        path: "--leader-takeover-after",
        message: `(${cfg.leader_takeover_after} s) must be 0 (never) or at least ${takeoverMin} s: the leader writes its heartbeat every 5 s and checks its lock every --leader-poll (${cfg.leader_poll} s), so a shorter bound could depose a leader that is merely busy`,
      },
    ]);
  if (cfg.rpc_max_body < 2 * cfg.xcom_max_bytes)
    throw configError([
      {
        path: "--rpc-max-body",
        message: `(${cfg.rpc_max_body} bytes) must be at least twice --xcom-max-bytes (${cfg.xcom_max_bytes}): a return value travels to the control plane as escaped JSON text; raise --rpc-max-body`,
      },
    ]);
  if (cfg.dags_folder_layout === "teams" && cfg.dags_folder === "")
    throw configError([
      {
        path: "--dags-folder-layout=teams",
        message: "needs the folder of team default, whose subfolders are the teams' folders; add --dags-folder PATH (without TEAM=)",
      },
    ]);
  if (cfg.auth === "none" && !isLoopback(cfg.host))
    throw configError([
      {
        path: "--auth=none",
        message: `is accepted only when listening on loopback, but --host is ${cfg.host}; use --host 127.0.0.1 or keep --auth=jwt`,
      },
    ]);
  return cfg;
}

/** The DAG parse limits from LEOFLOW_DAG_PARSE_TIMEOUT / LEOFLOW_DAG_PARSE_MEMORY alone, for `leoflow dags validate`. */
export function dagParseLimitsFromEnv(env: Record<string, string | undefined> = process.env): { timeoutMs: number; memoryBytes: number } {
  const { dag_parse_timeout, dag_parse_memory } = ServeConfigSchema.shape;
  const timeout = dag_parse_timeout.check(Number(env.LEOFLOW_DAG_PARSE_TIMEOUT ?? SERVE_FLAGS["dag-parse-timeout"][2]));
  const memory = dag_parse_memory.check(env.LEOFLOW_DAG_PARSE_MEMORY ?? SERVE_FLAGS["dag-parse-memory"][2]);
  const issues = [
    ...(timeout.ok ? [] : [{ path: "LEOFLOW_DAG_PARSE_TIMEOUT", message: timeout.message }]),
    ...(memory.ok ? [] : [{ path: "LEOFLOW_DAG_PARSE_MEMORY", message: memory.message }]),
  ];
  if (!timeout.ok || !memory.ok) throw configError(issues);
  return { timeoutMs: timeout.value * 1000, memoryBytes: memory.value };
}

function configError(issues: { path: string; message: string }[]): ValidationError {
  return new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join("\n"), issues);
}

/** `leoflow serve --help` text. */
export function serveHelp(): string {
  const rows = Object.entries(SERVE_FLAGS).map(([name, [type, envName, def, help]]) => {
    const flag = `--${name}${type === "boolean" ? "" : ` ${type === "number" ? "N" : "VALUE"}`}`;
    const d = def === undefined ? "" : ` (default ${String(def)})`;
    return `  ${flag.padEnd(30)} ${help}${d}\n  ${"".padEnd(30)} env ${envName}`;
  });
  return `Usage: leoflow serve [flags]\n\nRuns the scheduler, the HTTP API and UI, and the agent RPC on one port.\n\nFlags:\n${rows.join("\n")}\n  --config PATH                  a leoflow.toml holding any of these flags (default /etc/leoflow/leoflow.toml if it exists)\n  ${"".padEnd(30)} env LEOFLOW_CONFIG\n\nLEOFLOW_ADMIN_PASSWORD sets the admin password; without it one is generated on first start and printed once.\n`;
}

/**
 * The DAG folders per team from the repeated `--dags-folder` flag, else the comma-separated environment or
 * file value: `dags_folder` (team default; "" if only TEAM=PATH values were given) and `team_dags_folders`.
 * Problems are added to `issues`, each naming the value.
 */
function dagsFolders(
  flags: string | boolean | (string | boolean)[] | undefined,
  fallback: string | number | boolean | undefined,
  issues: { path: string; message: string }[],
): { dags_folder: string; team_dags_folders: { team: string; path: string }[] } {
  const given = Array.isArray(flags)
    ? flags.map(String)
    : typeof fallback === "string"
      ? fallback
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== "")
      : [];
  const parsed = parseTeamFolders(given, SERVE_FLAGS["dags-folder"][2], process.cwd());
  if (!parsed.ok) {
    for (const message of parsed.problems) issues.push({ path: "--dags-folder", message });
    return { dags_folder: "", team_dags_folders: [] };
  }
  return {
    dags_folder: parsed.folders.find((f) => f.team === DEFAULT_TEAM)?.path ?? "",
    team_dags_folders: parsed.folders.filter((f) => f.team !== DEFAULT_TEAM),
  };
}
