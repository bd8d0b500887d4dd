/**
 * Config: one object built from command-line flags, LEOFLOW_* environment variables and defaults, in that
 * order of precedence, validated with zod so a bad value is refused with the flag's name and a fix.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { ValidationError } from "./domain";

const MODES = ["lite", "pro"] as const;
const EXECUTORS = ["subprocess", "docker", "kubernetes"] as const;

const ServeConfigSchema = z.object({
  mode: z.enum(MODES),
  db: z.string().min(1),
  dags_folder: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  advertise_url: z.string().url().optional(),
  auth: z.enum(["jwt", "none"]),
  executor: z.enum(EXECUTORS),
  parallelism: z.number().int().min(1),
  dags_paused_at_creation: z.boolean(),
  data_dir: z.string().min(1),
  xcom_max_bytes: z.number().int().min(1024),
  agent_token_ttl: z.number().int().min(60),
  heartbeat_interval: z.number().min(0.1),
  shutdown_grace: z.number().min(0),
  sweep_interval: z.number().min(0.05),
  jwt_secret: z.string().min(16).optional(),
  admin_password: z.string().min(1).optional(),
});
export type ServeConfig = z.infer<typeof ServeConfigSchema>;

/** Flag name → [type, env var, default, help]. The help text of `leoflow serve --help` is generated from this. */
export const SERVE_FLAGS = {
  mode: ["string", "LEOFLOW_MODE", "lite", "lite (SQLite, subprocess tasks) or pro (Postgres, leader election)"],
  db: ["string", "LEOFLOW_DB", undefined, "sqlite:PATH or postgres://user@host:5432/db (default sqlite:<data-dir>/leoflow.db)"],
  "dags-folder": ["string", "LEOFLOW_DAGS_FOLDER", "./dags", "folder of dag.json / dag.yaml / .ts DAG files"],
  host: ["string", "LEOFLOW_HOST", "127.0.0.1", "address to listen on"],
  port: ["number", "LEOFLOW_PORT", 8080, "port for the API, UI and agent RPC"],
  "advertise-url": ["string", "LEOFLOW_ADVERTISE_URL", undefined, "URL agents use to reach this server (default http://127.0.0.1:PORT)"],
  auth: ["string", "LEOFLOW_AUTH", "jwt", "jwt, or none (accepted only when listening on loopback)"],
  executor: ["string", "LEOFLOW_EXECUTOR", undefined, "subprocess | docker | kubernetes (lite default: subprocess)"],
  parallelism: ["number", "LEOFLOW_PARALLELISM", 32, "task instances running at once, across all DAGs"],
  "dags-paused-at-creation": ["boolean", "LEOFLOW_DAGS_PAUSED_AT_CREATION", false, "new DAGs start paused"],
  "data-dir": ["string", "LEOFLOW_DATA_DIR", "./.leoflow", "where Lite keeps its database and secrets"],
  "xcom-max-bytes": ["number", "LEOFLOW_XCOM_MAX_BYTES", 1048576, "largest XCom value, in bytes of JSON"],
  "agent-token-ttl": ["number", "LEOFLOW_AGENT_TOKEN_TTL", 86400, "seconds an agent token stays valid"],
  "heartbeat-interval": ["number", "LEOFLOW_HEARTBEAT_INTERVAL", 5, "seconds between agent heartbeats"],
  "shutdown-grace": ["number", "LEOFLOW_SHUTDOWN_GRACE", 10, "seconds to let running tasks finish on SIGTERM"],
  "sweep-interval": ["number", "LEOFLOW_SWEEP_INTERVAL", 1, "seconds between full scheduler sweeps (wake-ups are event-driven)"],
  "jwt-secret": ["string", "LEOFLOW_JWT_SECRET", undefined, "secret signing API and agent tokens (Lite generates one in data-dir)"],
} as const satisfies Record<string, readonly ["string" | "number" | "boolean", string, unknown, string]>;

type FlagName = keyof typeof SERVE_FLAGS;

/** Builds and validates the serve config. Throws ValidationError naming the flag and how to fix it. */
export function loadServeConfig(argv: string[], env: Record<string, string | undefined> = process.env): ServeConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(SERVE_FLAGS).map(([name, [type]]) => [name, { type: type === "boolean" ? "boolean" : "string" }]),
      ),
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new ValidationError(`${(e as Error).message}. Run 'leoflow serve --help' for the flags.`);
  }
  const raw: Record<string, unknown> = {};
  const issues: { path: string; message: string }[] = [];
  for (const [name, [type, envName, def]] of Object.entries(SERVE_FLAGS) as [FlagName, (typeof SERVE_FLAGS)[FlagName]][]) {
    const given = values[name] ?? env[envName];
    let value: unknown = given ?? def;
    if (given !== undefined && type === "number") {
      value = Number(given);
      if (given === "" || Number.isNaN(value)) issues.push({ path: `--${name}`, message: `expects a number, got "${given}"` });
    }
    if (given !== undefined && type === "boolean" && typeof given === "string") {
      if (!/^(1|0|true|false|yes|no)$/i.test(given))
        issues.push({ path: envName, message: `expects true or false, got "${given}"` });
      value = /^(1|true|yes)$/i.test(given);
    }
    raw[name.replaceAll("-", "_")] = value;
  }
  raw.admin_password = env.LEOFLOW_ADMIN_PASSWORD;
  const mode = (raw.mode as string) ?? "lite";
  raw.executor ??= mode === "pro" ? "kubernetes" : "subprocess";
  raw.db ??= `sqlite:${raw.data_dir}/leoflow.db`;
  if (issues.length) throw configError(issues);
  const parsed = ServeConfigSchema.safeParse(raw);
  if (!parsed.success)
    throw configError(
      parsed.error.issues.map((i) => ({ path: `--${String(i.path[0]).replaceAll("_", "-")}`, message: i.message })),
    );
  const cfg = parsed.data;
  if (cfg.mode === "pro" && !/^postgres(ql)?:\/\//.test(cfg.db))
    throw configError([
      {
        path: "--mode=pro",
        message: `needs a Postgres store for leader election, but --db is "${cfg.db}"; pass --db=postgres://user@host:5432/leoflow, or run --mode=lite`,
      },
    ]);
  if (cfg.auth === "none" && !isLoopback(cfg.host))
    throw configError([
      { path: "--auth=none", message: `is accepted only when listening on loopback, but --host is ${cfg.host}; use --host 127.0.0.1 or keep --auth=jwt` },
    ]);
  return cfg;
}

function configError(issues: { path: string; message: string }[]): ValidationError {
  return new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join("\n"), issues);
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `leoflow serve --help` text. */
export function serveHelp(): string {
  const rows = Object.entries(SERVE_FLAGS).map(([name, [type, envName, def, help]]) => {
    const flag = `--${name}${type === "boolean" ? "" : ` ${type === "number" ? "N" : "VALUE"}`}`;
    const d = def === undefined ? "" : ` (default ${String(def)})`;
    return `  ${flag.padEnd(30)} ${help}${d}\n  ${"".padEnd(30)} env ${envName}`;
  });
  return `Usage: leoflow serve [flags]\n\nRuns the scheduler, the HTTP API and UI, and the agent RPC on one port.\n\nFlags:\n${rows.join("\n")}\n\nLEOFLOW_ADMIN_PASSWORD sets the admin password; without it one is generated on first start and printed once.\n`;
}
