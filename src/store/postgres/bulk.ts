/**
 * Bulk create/update/delete of one team's variables, connections and pools: every action of a request in one
 * transaction, reading and writing only that team's rows.
 */
import {
  CONNECTION_NOUN,
  POOL_NOUN,
  VARIABLE_NOUN,
  bulkKeys,
  planBulkAction,
  type BulkAction,
  type BulkActionResult,
  type BulkNoun,
  type BulkPlan,
  type ConnectionRecord,
  type PoolInput,
  type VariableRecord,
} from "../../domain";
import { query, type Db, type Pool } from "./client";
import { createPool, deletePool, updatePool } from "./pools";
import { deleteConnection, deleteVariable, putConnection, putVariable } from "./variables";

/** Which of `keys` the team has, read FOR UPDATE so a concurrent bulk request on the same keys waits for this one. */
async function existingKeys(db: Db, team: string, table: string, column: string, keys: string[]): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const rows = await query<{ k: string }>(
    db,
    `SELECT ${column} AS k FROM ${table} WHERE team = $1 AND ${column} = ANY($2::text[]) FOR UPDATE`,
    [team, keys],
  );
  return new Set(rows.map((r) => r.k));
}

async function runBulk<T>(
  sql: Pool,
  team: string,
  actions: BulkAction<T>[],
  where: { table: string; column: string; noun: BulkNoun; keyOf: (e: T) => string },
  apply: (tx: Db, plan: BulkPlan<T>, existing: Set<string>) => Promise<void>,
): Promise<BulkActionResult[]> {
  return (await sql.begin(async (tx) => {
    const results: BulkActionResult[] = [];
    for (const a of actions) {
      const existing = await existingKeys(tx, team, where.table, where.column, bulkKeys(a, where.keyOf));
      const plan = planBulkAction(a, existing, where.noun, where.keyOf);
      await apply(tx, plan, existing);
      results.push(plan.result);
    }
    return results;
  })) as BulkActionResult[];
}

export function bulkVariables(sql: Pool, team: string, actions: BulkAction<VariableRecord>[], now: Date): Promise<BulkActionResult[]> {
  const where = { table: "variables", column: "key", noun: VARIABLE_NOUN, keyOf: (v: VariableRecord) => v.key };
  return runBulk(sql, team, actions, where, async (tx, plan) => {
    for (const v of plan.put) await putVariable(tx, team, v, now);
    for (const k of plan.remove) await deleteVariable(tx, team, k);
  });
}

export function bulkConnections(sql: Pool, team: string, actions: BulkAction<ConnectionRecord>[], now: Date): Promise<BulkActionResult[]> {
  const where = { table: "connections", column: "connection_id", noun: CONNECTION_NOUN, keyOf: (c: ConnectionRecord) => c.connection_id };
  return runBulk(sql, team, actions, where, async (tx, plan) => {
    for (const c of plan.put) await putConnection(tx, team, c, now);
    for (const k of plan.remove) await deleteConnection(tx, team, k);
  });
}

export function bulkPools(sql: Pool, team: string, actions: BulkAction<PoolInput>[]): Promise<BulkActionResult[]> {
  const where = { table: "pools", column: "name", noun: POOL_NOUN, keyOf: (p: PoolInput) => p.name };
  return runBulk(sql, team, actions, where, async (tx, plan, existing) => {
    for (const p of plan.put) {
      if (existing.has(p.name))
        await updatePool(tx, team, p.name, { slots: p.slots, description: p.description, include_deferred: p.include_deferred });
      else await createPool(tx, team, p);
    }
    for (const k of plan.remove) await deletePool(tx, team, k);
  });
}
