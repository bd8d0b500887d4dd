/** PoolsApiStore: Airflow's pools, with their usage, as the API lists and edits them. */
import type { ListOptions, Page, PoolInput, PoolRecord } from "../../domain";

export interface PoolsApiStore {
  /**
   * Page of pools with usage; order_by accepts id (default, creation order), name; `name_pattern` is a
   * case-insensitive LIKE on name. Usage: per pool, the sum of pool_slots of its task instances in state
   * running, queued and scheduled (task instances naming a pool that does not exist count nowhere).
   */
  listPools(opts?: ListOptions & { name_pattern?: string }): Promise<Page<PoolRecord>>;
  getPool(name: string): Promise<PoolRecord | null>;
  /** Inserts a pool; ConflictError ("The Pool with name: `x` already exists") when the name is taken. */
  createPool(pool: PoolInput): Promise<PoolRecord>;
  /** Updates the given fields (not the name); null when there is no such pool. */
  updatePool(name: string, patch: Partial<Omit<PoolInput, "name">>): Promise<PoolRecord | null>;
  /** Deletes the pool; false when there was none. Callers refuse default_pool before asking. */
  deletePool(name: string): Promise<boolean>;
}
