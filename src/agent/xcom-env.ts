/**
 * XCom inputs reach the user process as `LEOFLOW_XCOM_<NAME>=<json>`. NAME is the upstream task_id (or the
 * `inputs` key) upper-cased with every non-alphanumeric character replaced by `_`, so any task_id becomes a
 * valid env var name: `extract-users.v2` → `LEOFLOW_XCOM_EXTRACT_USERS_V2`.
 */

export const XCOM_ENV_PREFIX = "LEOFLOW_XCOM_";

/** `extract-users` → `EXTRACT_USERS`. Idempotent, so an already normalised name passes through. */
export function xcomEnvName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * `xcomEnvVar("extract", '{"rows":1}')` → `LEOFLOW_XCOM_EXTRACT={"rows":1}` (the `KEY=value` form of an env entry).
 */
export function xcomEnvVar(name: string, json: string): string {
  return `${XCOM_ENV_PREFIX}${xcomEnvName(name)}=${json}`;
}

/** The XCom inputs as an env object, for Bun.spawn. */
export function xcomEnv(inputs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, json] of Object.entries(inputs)) env[XCOM_ENV_PREFIX + xcomEnvName(name)] = json;
  return env;
}
