/**
 * POST /connections/test: tries a connection as its hook would. Leoflow can test `http`/`https` (a GET of the
 * base URL; any status below 400 passes) and `postgres` (connect and `SELECT 1`); any other type answers
 * `status: false` saying it cannot be tested. Like Airflow, testing is off unless the operator turns it on
 * (`--test-connection=Enabled`): it makes the server reach hosts a user names.
 *
 * @example await testConnection({ connection_id: "x", conn_type: "http", host: "example.com", … }) // { status: true, message: "…" }
 */
import { errorMessage, type ConnectionRecord } from "../domain";
import { postgresDriver } from "../store";

export interface ConnectionTestResult {
  status: boolean;
  message: string;
}

const TIMEOUT_MS = 10_000;

export async function testConnection(c: ConnectionRecord): Promise<ConnectionTestResult> {
  const type = c.conn_type.toLowerCase();
  try {
    if (type === "http" || type === "https") return await testHttp(c, type);
    if (type === "postgres" || type === "postgresql") return await testPostgres(c);
  } catch (e) {
    return { status: false, message: errorMessage(e) };
  }
  return {
    status: false,
    message: `Leoflow cannot test connections of type "${c.conn_type}"; it tests http, https and postgres connections`,
  };
}

/** The base URL an http connection's hook calls: a host holding a scheme wins, else schema (or the type) + host. */
export function httpBaseUrl(c: ConnectionRecord, type: string): string {
  if (!c.host) throw new Error(`connection ${c.connection_id} has no host; set host (e.g. api.example.com)`);
  if (/^https?:\/\//i.test(c.host)) return c.host;
  const scheme = c.schema === "https" || c.schema === "http" ? c.schema : type;
  return `${scheme}://${c.host}${c.port ? `:${c.port}` : ""}`;
}

async function testHttp(c: ConnectionRecord, type: string): Promise<ConnectionTestResult> {
  const url = httpBaseUrl(c, type);
  const headers: Record<string, string> = {};
  if (c.login) headers.authorization = `Basic ${Buffer.from(`${c.login}:${c.password ?? ""}`).toString("base64")}`;
  const res = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
  await res.body?.cancel();
  if (res.status >= 400) return { status: false, message: `${res.status}:${res.statusText || "error"} from GET ${url}` };
  return { status: true, message: "Connection successfully tested" };
}

async function testPostgres(c: ConnectionRecord): Promise<ConnectionTestResult> {
  const sql = postgresDriver()({
    host: c.host ?? "localhost",
    port: c.port ?? 5432,
    user: c.login ?? undefined,
    password: c.password ?? undefined,
    database: c.schema ?? undefined,
    max: 1,
    connect_timeout: TIMEOUT_MS / 1000,
    onnotice: () => {},
  });
  try {
    await sql`SELECT 1`;
    return { status: true, message: "Connection successfully tested" };
  } finally {
    await sql.end({ timeout: 1 });
  }
}
