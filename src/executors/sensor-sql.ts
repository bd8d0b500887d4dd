/**
 * The SQL sensor's check: the query runs on a connection of the task's team, and the sensor is done when the
 * first cell of the first row is truthy (Airflow's SqlSensor: not null, 0, false, '' or '0'). Postgres
 * (conn_type postgres/postgresql: host, port, login, password, schema = database) and SQLite (conn_type
 * sqlite: host = the database file, opened read-only). The driver is loaded only when a SQL sensor runs.
 */
import type { ConnectionRecord, SensorSpec } from "../domain";
import type { SensorAnswer } from "./sensor-checks";
import type { SensorCheckContext } from "../domain";

type SqlSensor = Extract<SensorSpec, { kind: "sql" }>;

const CONNECT_TIMEOUT_SECONDS = 10;

export async function checkSqlSensor(
  sensor: SqlSensor,
  ctx: SensorCheckContext,
  port: { getConnection(team: string, id: string): Promise<ConnectionRecord | null> },
): Promise<SensorAnswer> {
  const c = await port.getConnection(ctx.team, sensor.connection_id);
  if (!c)
    throw new Error(`connection "${sensor.connection_id}" does not exist in team ${ctx.team}; create it with POST /api/v2/connections`);
  const type = c.conn_type.toLowerCase();
  if (type === "postgres" || type === "postgresql") return { done: truthy(await firstCellPostgres(c, sensor.sql)) };
  if (type === "sqlite") return { done: truthy(firstCellSqlite(c, sensor.sql)) };
  throw new Error(`connection "${c.connection_id}" is of type "${c.conn_type}"; a sql sensor runs on postgres or sqlite connections`);
}

/** Airflow's SqlSensor: a first cell that is null, 0, false, '' or '0' means "not yet"; no row at all too. */
export function truthy(cell: unknown): boolean {
  if (cell === undefined || cell === null || cell === false || cell === "" || cell === "0") return false;
  if (typeof cell === "number" || typeof cell === "bigint") return Number(cell) !== 0;
  return true;
}

async function firstCellPostgres(c: ConnectionRecord, text: string): Promise<unknown> {
  const { default: postgres } = await import("postgres");
  const sql = postgres({
    host: c.host ?? "localhost",
    port: c.port ?? 5432,
    user: c.login ?? undefined,
    password: c.password ?? undefined,
    database: c.schema ?? undefined,
    max: 1,
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    onnotice: () => {},
  });
  try {
    const rows = await sql.unsafe(text);
    const first = rows[0] as Record<string, unknown> | undefined;
    return first ? Object.values(first)[0] : undefined;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function firstCellSqlite(c: ConnectionRecord, text: string): unknown {
  if (!c.host) throw new Error(`connection "${c.connection_id}" has no host; for sqlite, host is the database file's path`);
  const { Database } = require("bun:sqlite") as typeof import("bun:sqlite");
  const db = new Database(c.host, { readonly: true });
  try {
    const row = db.query(text).values()[0];
    return row?.[0];
  } finally {
    db.close();
  }
}
