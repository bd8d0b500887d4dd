/**
 * `env_from`: a task's environment variables filled from its team's variables and connections when a try
 * starts. Pure: the reference grammar, the connection's URI and fields, and which values are secrets to mask.
 * Kept free of zod so the agent can load it on its start-up path.
 *
 * The forms of a reference (the value of an `env_from` entry):
 * - `var:KEY`         the variable's value;
 * - `conn:ID`         the connection as Airflow's URI, `TYPE://LOGIN:PASSWORD@HOST:PORT/SCHEMA?EXTRA`;
 * - `conn:ID.FIELD`   one field: conn_type, host, port, login, password, schema, extra (JSON text) or uri.
 * Connection ids may hold dots; the part after the last dot is a field only when it is one of those names.
 * A missing variable, connection or field fails the try naming it; a task never starts with an empty value.
 *
 * @example parseEnvFromRef("conn:warehouse.password") // { kind: "conn", connId: "warehouse", field: "password" }
 */
import { isSensitiveName } from "./secrets";

export const CONNECTION_FIELDS = ["uri", "conn_type", "host", "port", "login", "password", "schema", "extra"] as const;
export type ConnectionField = (typeof CONNECTION_FIELDS)[number];

export type EnvFromRef = { kind: "var"; key: string } | { kind: "conn"; connId: string; field: ConnectionField };

/** The name rule for env_from keys (a shell can read them as $NAME). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const FORMS = "use var:KEY, conn:ID (the connection as a URI) or conn:ID.FIELD (FIELD: " + CONNECTION_FIELDS.join(", ") + ")";
const CONN_ID = /^[\w.-]+$/;

/** A reference parsed, or why it is not one (a message that says how to write it). */
export function parseEnvFromRef(ref: string): EnvFromRef | { error: string } {
  const colon = ref.indexOf(":");
  const kind = colon < 0 ? "" : ref.slice(0, colon);
  const rest = colon < 0 ? "" : ref.slice(colon + 1);
  if (kind === "var") {
    if (!rest) return { error: `"${ref}" names no variable; ${FORMS}` };
    if (rest.length > 250) return { error: `variable key in "${ref.slice(0, 40)}…" is longer than 250 characters` };
    return { kind: "var", key: rest };
  }
  if (kind === "conn") {
    const dot = rest.lastIndexOf(".");
    const tail = dot < 0 ? "" : rest.slice(dot + 1);
    const isField = (CONNECTION_FIELDS as readonly string[]).includes(tail);
    const connId = isField ? rest.slice(0, dot) : rest;
    if (!connId) return { error: `"${ref}" names no connection; ${FORMS}` };
    if (!CONN_ID.test(connId))
      return { error: `"${ref}": connection id "${connId}" may contain only letters, digits, '_', '.' and '-'; ${FORMS}` };
    return { kind: "conn", connId, field: isField ? (tail as ConnectionField) : "uri" };
  }
  return { error: `"${ref}" is not a reference; ${FORMS}` };
}

/**
 * Every problem of one task's env_from, as `{ key, message }`: a name that is not an env var name, one the
 * agent owns (LEOFLOW_*), one also set in `env` (which would win is unclear), a malformed reference.
 */
export function envFromProblems(envFrom: Record<string, string>, env: Record<string, string> = {}): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  for (const [key, ref] of Object.entries(envFrom)) {
    if (!ENV_NAME.test(key))
      problems.push({ key, message: `"${key}" is not an environment variable name (letters, digits and _, not starting with a digit)` });
    else if (key.startsWith("LEOFLOW_"))
      problems.push({ key, message: `${key}: LEOFLOW_* names are set by the agent; choose another name` });
    else if (Object.hasOwn(env, key)) problems.push({ key, message: `${key} is set in both env and env_from; keep one` });
    const parsed = parseEnvFromRef(ref);
    if ("error" in parsed) problems.push({ key, message: parsed.error });
  }
  return problems;
}

/** A connection as a task sees it (ctx.conn, `leoflow task conn get --json`); null where the field is unset. */
export interface TaskConnection {
  conn_id: string;
  conn_type: string;
  host: string | null;
  port: number | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  /** The extra as stored: JSON text. */
  extra: string | null;
  /** Airflow's URI form of the connection. */
  uri: string;
}

/**
 * Airflow's `Connection.get_uri()`: `TYPE://LOGIN:PASSWORD@HOST:PORT/SCHEMA`, then the extra as query
 * parameters when it is a flat object of scalars, otherwise whole under `__extra__`.
 *
 * @example connectionUri({ conn_type: "postgres", login: "bob", password: "s@t", host: "db", port: 5432, schema: "sales", extra: null }) // "postgres://bob:s%40t@db:5432/sales"
 */
export function connectionUri(c: Omit<TaskConnection, "conn_id" | "uri">): string {
  const enc = encodeURIComponent;
  const user = c.login || c.password ? `${enc(c.login ?? "")}${c.password ? `:${enc(c.password)}` : ""}@` : "";
  const host = `${enc(c.host ?? "")}${c.port ? `:${c.port}` : ""}`;
  const schema = c.schema ? `/${enc(c.schema)}` : "";
  return `${c.conn_type.replaceAll("_", "-")}://${user}${host}${schema}${extraQuery(c.extra)}`;
}

function extraQuery(extra: string | null): string {
  if (!extra) return "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(extra);
  } catch {
    return `?${new URLSearchParams({ __extra__: extra })}`;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return `?${new URLSearchParams({ __extra__: extra })}`;
  const entries = Object.entries(parsed);
  if (!entries.length) return "";
  if (entries.some(([, v]) => v !== null && typeof v === "object")) return `?${new URLSearchParams({ __extra__: extra })}`;
  return `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}`;
}

/** One field of a connection as text, or null when the connection leaves it unset. */
export function connectionField(c: TaskConnection, field: ConnectionField): string | null {
  if (field === "port") return c.port ? String(c.port) : null;
  const v = c[field];
  return v === null || v === "" ? null : v;
}

/** Values shorter than this are not masked: masking "1" or "ab" would garble every log line (Airflow skips short ones too). */
export const MIN_MASKED_LENGTH = 3;

/**
 * What to mask once a task has read this variable: its value when it is stored encrypted, or when its key,
 * or the env name it is put under (`DB_PASSWORD: var:db`), names a secret (api_key, password, token…).
 */
export function variableSecrets(key: string, value: string, envName = "", encrypted = false): string[] {
  return encrypted || isSensitiveName(key) || (envName !== "" && isSensitiveName(envName)) ? [value] : [];
}

/**
 * What to mask once a task has read this connection: the password (as written and as it appears in the URI),
 * and the values of sensitive-named keys of its extra (token, private_key…).
 */
export function connectionSecrets(c: Pick<TaskConnection, "password" | "extra">): string[] {
  const out: string[] = [];
  if (c.password) out.push(c.password, encodeURIComponent(c.password));
  if (c.extra) {
    try {
      collectSensitive(JSON.parse(c.extra), out);
    } catch {
      // An extra that is not JSON names no fields; nothing more to mask.
    }
  }
  return [...new Set(out)];
}

function collectSensitive(value: unknown, out: string[]): void {
  if (Array.isArray(value)) for (const v of value) collectSensitive(v, out);
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      if (isSensitiveName(k) && (typeof v === "string" || typeof v === "number")) out.push(String(v));
      else collectSensitive(v, out);
    }
}
