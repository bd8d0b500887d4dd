/**
 * PoolsApiStore: Airflow's pools, with their usage, as the API lists and edits them. Pools belong to a team
 * (each team has its own `default_pool`); a task instance uses the pool of its own team by that name.
 */
import type { ListOptions, Page, PoolInput, PoolRecord } from "../../domain";

export interface PoolsApiStore {
  /**
   * Page of the team's pools with usage; order_by accepts id (default, creation order), name; `name_pattern`
   * is a case-insensitive LIKE on name. Usage: per pool, the sum of pool_slots of the team's task instances
   * in state running, queued and scheduled that name it (task instances naming a pool their team does not
   * have count nowhere).
   */
  listPools(team: string, opts?: ListOptions & { name_pattern?: string }): Promise<Page<PoolRecord>>;
  getPool(team: string, name: string): Promise<PoolRecord | null>;
  /** Inserts a pool into the team; ConflictError ("The Pool with name: `x` already exists") when the team has that name. */
  createPool(team: string, pool: PoolInput): Promise<PoolRecord>;
  /** Updates the given fields (not the name) of the team's pool; null when the team has no such pool. */
  updatePool(team: string, name: string, patch: Partial<Omit<PoolInput, "name">>): Promise<PoolRecord | null>;
  /** Deletes the team's pool; false when there was none. Callers refuse default_pool before asking. */
  deletePool(team: string, name: string): Promise<boolean>;
}
