/**
 * BulkApiStore: Airflow's bulk PATCH of variables, connections and pools. Each call runs all its actions in
 * ONE transaction: per action, it reads which keys exist, plans with the domain's planBulkAction (the same
 * rules in both stores) and writes; it returns one BulkActionResult per action, in order. Create and update
 * write the whole entity (an upsert); callers fill unchanged fields (and kept secrets) before asking.
 */
import type { BulkAction, BulkActionResult, ConnectionRecord, PoolInput, VariableRecord } from "../../domain";

export interface BulkApiStore {
  bulkVariables(actions: BulkAction<VariableRecord>[], now: Date): Promise<BulkActionResult[]>;
  bulkConnections(actions: BulkAction<ConnectionRecord>[], now: Date): Promise<BulkActionResult[]>;
  /** Pools keep their id (and so their list order) when updated or overwritten; default_pool is never deleted. */
  bulkPools(actions: BulkAction<PoolInput>[]): Promise<BulkActionResult[]>;
}
