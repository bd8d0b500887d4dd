/**
 * VariablesApiStore: Airflow's variables and connections, as the API, the agent RPC and templates read them.
 * Each team has its own: every method names the team first and touches only that team's rows, so the same
 * key in two teams names two different variables.
 */
import type { ConnectionRecord, ListOptions, Page, VariableRecord } from "../../domain";

export interface VariablesApiStore {
  /** The team's variable, or null. Keys are case-sensitive. */
  getVariable(team: string, key: string): Promise<VariableRecord | null>;
  /**
   * Inserts the variable into the team, or replaces value and description of its existing one (returns what
   * is stored). With `onlyIfAbsent`, an existing key is left alone and ConflictError ("… already exists") is thrown.
   */
  putVariable(team: string, variable: VariableRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<VariableRecord>;
  /**
   * Page of the team's variables; order_by accepts key (default) and description (`-` for descending); ties
   * by key. `key_pattern` is a LIKE pattern on key (`%` any run, `_` one character), case-insensitive like
   * Airflow's search params (Postgres: ILIKE).
   */
  listVariables(team: string, opts?: ListOptions & { key_pattern?: string }): Promise<Page<VariableRecord>>;
  /** Deletes the team's variable; false when it has none by that key. */
  deleteVariable(team: string, key: string): Promise<boolean>;
  /** The team's connection with its real password (callers that show it must mask it), or null. */
  getConnection(team: string, connectionId: string): Promise<ConnectionRecord | null>;
  /** Inserts or replaces every field of the team's connection. `onlyIfAbsent` as for putVariable. */
  putConnection(team: string, connection: ConnectionRecord, now: Date, opts?: { onlyIfAbsent?: boolean }): Promise<ConnectionRecord>;
  /**
   * Page of the team's connections; order_by accepts connection_id (default), conn_type, host; ties by
   * connection_id. Same `id_pattern` LIKE rule.
   */
  listConnections(team: string, opts?: ListOptions & { id_pattern?: string }): Promise<Page<ConnectionRecord>>;
  /** Deletes the team's connection; false when it has none by that id. */
  deleteConnection(team: string, connectionId: string): Promise<boolean>;
}
