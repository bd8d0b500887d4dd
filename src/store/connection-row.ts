/** The stored form of a Connection, the same for both stores. */
import type { ConnectionRecord } from "../domain";

/**
 * Every field present, absent ones as null (flags false). Keys stay in the order of the stores' connection column list:
 * the SQLite store binds Object.values(row) positionally against it.
 */
export function connectionRow(c: ConnectionRecord): ConnectionRecord {
  return {
    connection_id: c.connection_id,
    conn_type: c.conn_type,
    description: c.description ?? null,
    host: c.host ?? null,
    login: c.login ?? null,
    password: c.password ?? null,
    schema: c.schema ?? null,
    port: c.port ?? null,
    extra: c.extra ?? null,
    is_encrypted: c.is_encrypted ?? false,
    is_extra_encrypted: c.is_extra_encrypted ?? false,
  };
}
