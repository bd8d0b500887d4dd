/** VariablesApiStore: Airflow's variables and connections, as the API, the agent RPC and templates read them. */
import type { ConnectionRecord, ListOptions, Page, VariableRecord } from "../../domain";

export interface VariablesApiStore {
  /** The variable, or null. Keys are case-sensitive. */
  getVariable(key: string): Promise<VariableRecord | null>;
  /**
   * Inserts the variable, or replaces value and description of an existing one (returns what is stored).
   * With `onlyIfAbsent`, an existing key is left alone and ConflictError ("… already exists") is thrown.
   */
  putVariable(variable: VariableRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<VariableRecord>;
  /**
   * Page of variables; order_by accepts key (default) and description (`-` for descending); ties by key.
   * `key_pattern` is a LIKE pattern on key (`%` any run, `_` one character), case-insensitive like Airflow's
   * search params (Postgres: ILIKE).
   */
  listVariables(opts?: ListOptions & { key_pattern?: string }): Promise<Page<VariableRecord>>;
  /** Deletes the variable; false when there was none. */
  deleteVariable(key: string): Promise<boolean>;
  /** The connection with its real password (callers that show it must mask it), or null. */
  getConnection(connectionId: string): Promise<ConnectionRecord | null>;
  /** Inserts or replaces every field of the connection. `onlyIfAbsent` as for putVariable. */
  putConnection(connection: ConnectionRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<ConnectionRecord>;
  /** Page of connections; order_by accepts connection_id (default), conn_type, host; ties by connection_id. Same `id_pattern` LIKE rule. */
  listConnections(opts?: ListOptions & { id_pattern?: string }): Promise<Page<ConnectionRecord>>;
  /** Deletes the connection; false when there was none. */
  deleteConnection(connectionId: string): Promise<boolean>;
}
