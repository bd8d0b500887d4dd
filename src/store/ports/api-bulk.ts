/**
 * BulkApiStore: Airflow's bulk PATCH of variables, connections and pools, within one team. Each call runs all
 * its actions in ONE transaction: per action, it reads which of the team's keys exist, plans with the domain's
 * planBulkAction (the same rules in both stores) and writes; it returns one BulkActionResult per action, in
 * order. Create and update write the whole entity (an upsert); callers fill unchanged fields (and kept
 * secrets) before asking. Another team's rows with the same keys are neither seen nor touched.
 */
import type { BulkAction, BulkActionResult, ConnectionRecord, PoolInput, VariableRecord } from "../../domain";

export interface BulkApiStore {
  bulkVariables(team: string, actions: BulkAction<VariableRecord>[], now: Date): Promise<BulkActionResult[]>;
  bulkConnections(team: string, actions: BulkAction<ConnectionRecord>[], now: Date): Promise<BulkActionResult[]>;
  /** Pools keep their id (and so their list order) when updated or overwritten; default_pool is never deleted. */
  bulkPools(team: string, actions: BulkAction<PoolInput>[]): Promise<BulkActionResult[]>;
}
