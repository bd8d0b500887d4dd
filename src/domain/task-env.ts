/**
 * The environment a task's process starts from, on every executor: an allowlist, never the server's own
 * environment. Pure, so the rule is one table test; the agent imports this file directly (not the executors
 * index) to keep its start-up light.
 *
 * A task sees:
 * - BASE_TASK_ENV and LC_* from where it runs (host or agent): PATH, HOME, LANG, TZ, and USER, LOGNAME,
 *   SHELL, TMPDIR, which name who and where the process is, never a credential;
 * - the task's own LEOFLOW_* values (agent token, server URL, staging dir, run context, XCom, return path);
 * - its DAG's and task's `env` (default_args.env is the DAG's);
 * - the names the operator lists in --task-env-passthrough (globs such as `AWS_*` allowed).
 * Never a variable the server reads for itself (isServerOwned): LEOFLOW_* settings (JWT secret, admin
 * password, DB URL, secrets key…), the Postgres client's PG* variables, DOCKER_HOST, KUBECONFIG. Naming one in
 * --task-env-passthrough is refused at start; a glob never matches one.
 *
 * @example userProcessEnv({ agentEnv: process.env, taskEnv: spec.env, xcom: {}, returnValuePath: "/tmp/rv" })
 */

export const BASE_TASK_ENV: readonly string[] = ["PATH", "HOME", "LANG", "TZ", "USER", "LOGNAME", "SHELL", "TMPDIR"];

/** LEOFLOW_* names an executor sets for one try; the agent hands them on to the user process. */
export const TASK_OWN_ENV: readonly string[] = ["LEOFLOW_AGENT_TOKEN", "LEOFLOW_SERVER", "LEOFLOW_STAGING_DIR"];

/** The agent reads these (passthrough list, control channel, log format); the user process never sees them. */
export const AGENT_SETTINGS_ENV = {
  passthrough: "LEOFLOW_TASK_ENV_PASSTHROUGH",
  control: "LEOFLOW_AGENT_CONTROL",
  logLevel: "LEOFLOW_LOG_LEVEL",
  logFormat: "LEOFLOW_LOG_FORMAT",
} as const;

/** Postgres client variables (read by the `postgres` package when --db leaves them out) and engine addresses. */
const SERVER_OWNED_NAMES = new Set([
  "PGHOST",
  "PGPORT",
  "PGUSER",
  "PGUSERNAME",
  "PGPASSWORD",
  "PGDATABASE",
  "PGSSLMODE",
  "PGSSLROOTCERT",
  "PGPASSFILE",
  "DOCKER_HOST",
  "KUBECONFIG",
]);

type Env = Record<string, string | undefined>;

/** A variable the server reads for itself: it never reaches a task, whatever the passthrough list says. */
export function isServerOwned(name: string): boolean {
  return name.startsWith("LEOFLOW_") || SERVER_OWNED_NAMES.has(name);
}

/**
 * Parses `--task-env-passthrough` ("AWS_*,HTTP_PROXY"). Returns the patterns, or the problems (a malformed
 * name, or one the server owns) as messages meant for the operator.
 */
export function parsePassthrough(list: string): { patterns: string[]; problems: string[] } {
  const patterns: string[] = [];
  const problems: string[] = [];
  for (const raw of list.split(",")) {
    const p = raw.trim();
    if (!p) continue;
    if (!/^[A-Za-z_*][A-Za-z0-9_*]*$/.test(p))
      problems.push(`"${p}" is not an environment variable name (letters, digits, _ and * as a wildcard)`);
    else if (!p.includes("*") && isServerOwned(p))
      problems.push(
        `${p} is a variable the server reads for itself and is never passed to tasks; give the task its own value in the DAG's env instead`,
      );
    else if (p.startsWith("LEOFLOW_"))
      problems.push(`${p} would match the server's own LEOFLOW_* settings, which tasks never see; list the names the tasks need`);
    else patterns.push(p);
  }
  return { patterns, problems };
}

/** Whether `name` is listed (exactly or by a `*` glob); a server-owned name never is. */
export function matchesPassthrough(name: string, patterns: readonly string[]): boolean {
  if (isServerOwned(name)) return false;
  return patterns.some((p) => (p.includes("*") ? globToRegExp(p).test(name) : p === name));
}

const globs = new Map<string, RegExp>();
function globToRegExp(p: string): RegExp {
  let re = globs.get(p);
  if (!re)
    globs.set(
      p,
      (re = new RegExp(
        `^${p
          .split("*")
          .map((s) => s.replace(/[^A-Za-z0-9_]/g, "\\$&"))
          .join(".*")}$`,
      )),
    );
  return re;
}

/** The base allowlist (BASE_TASK_ENV, LC_*) and the passthrough names, taken from `source`. */
export function inheritedTaskEnv(source: Env, patterns: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || isServerOwned(name)) continue;
    if (BASE_TASK_ENV.includes(name) || name.startsWith("LC_") || matchesPassthrough(name, patterns)) env[name] = value;
  }
  return env;
}

/** Only the passthrough names from `source` (containers: the image, not the host, sets PATH and HOME). */
export function passthroughEnv(source: Env, patterns: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) if (value !== undefined && matchesPassthrough(name, patterns)) env[name] = value;
  return env;
}

/**
 * The environment of `leoflow agent` started by the subprocess executor: the allowlist, the agent's settings
 * (so it can apply the same rule again), and the try's own values.
 */
export function agentLaunchEnv(serverEnv: Env, patterns: readonly string[], own: Record<string, string>): Record<string, string> {
  const env = inheritedTaskEnv(serverEnv, patterns);
  for (const name of [AGENT_SETTINGS_ENV.logLevel, AGENT_SETTINGS_ENV.logFormat])
    if (serverEnv[name] !== undefined) env[name] = serverEnv[name]!;
  if (patterns.length) env[AGENT_SETTINGS_ENV.passthrough] = patterns.join(",");
  return { ...env, ...own };
}

/**
 * The user process's environment, built by the agent from its own: the allowlist again (the agent may have
 * been started by other means, with more in its environment), the task's env and run context, its XCom
 * inputs, then the try's own values, which nothing overrides.
 */
export function userProcessEnv(input: {
  agentEnv: Env;
  taskEnv: Record<string, string>;
  xcom: Record<string, string>;
  returnValuePath: string;
}): Record<string, string> {
  const { agentEnv } = input;
  const { patterns } = parsePassthrough(agentEnv[AGENT_SETTINGS_ENV.passthrough] ?? "");
  const own: Record<string, string> = {};
  for (const name of TASK_OWN_ENV) if (agentEnv[name] !== undefined) own[name] = agentEnv[name]!;
  return {
    ...inheritedTaskEnv(agentEnv, patterns),
    ...input.taskEnv,
    ...input.xcom,
    ...own,
    LEOFLOW_RETURN_VALUE_PATH: input.returnValuePath,
  };
}
