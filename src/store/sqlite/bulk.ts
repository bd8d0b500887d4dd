/**
 * Bulk create/update/delete of one team's variables, connections and pools: every action of a request in one
 * transaction, reading and writing only that team's rows.
 */
import type { Database } from "bun:sqlite";
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
import { createPool, deletePool, updatePool } from "./pools";
import { deleteConnection, deleteVariable, putConnection, putVariable } from "./variables";

/** Which of `keys` the team has in `table`.`column`. */
function existingKeys(db: Database, team: string, table: string, column: string, keys: string[]): Set<string> {
  if (!keys.length) return new Set();
  const rows = db
    .query(`SELECT ${column} AS k FROM ${table} WHERE team = ? AND ${column} IN (${keys.map(() => "?").join(", ")})`)
    .all(team, ...keys) as { k: string }[];
  return new Set(rows.map((r) => r.k));
}

function runBulk<T>(
  db: Database,
  team: string,
  actions: BulkAction<T>[],
  where: { table: string; column: string; noun: BulkNoun; keyOf: (e: T) => string },
  apply: (plan: BulkPlan<T>, existing: Set<string>) => void,
): BulkActionResult[] {
  return db.transaction(() =>
    actions.map((a) => {
      const existing = existingKeys(db, team, where.table, where.column, bulkKeys(a, where.keyOf));
      const plan = planBulkAction(a, existing, where.noun, where.keyOf);
      apply(plan, existing);
      return plan.result;
    }),
  )();
}

export function bulkVariables(db: Database, team: string, actions: BulkAction<VariableRecord>[], now: Date): BulkActionResult[] {
  const where = { table: "variables", column: "key", noun: VARIABLE_NOUN, keyOf: (v: VariableRecord) => v.key };
  return runBulk(db, team, actions, where, (plan) => {
    for (const v of plan.put) putVariable(db, team, v, now);
    for (const k of plan.remove) deleteVariable(db, team, k);
  });
}

export function bulkConnections(db: Database, team: string, actions: BulkAction<ConnectionRecord>[], now: Date): BulkActionResult[] {
  const where = { table: "connections", column: "connection_id", noun: CONNECTION_NOUN, keyOf: (c: ConnectionRecord) => c.connection_id };
  return runBulk(db, team, actions, where, (plan) => {
    for (const c of plan.put) putConnection(db, team, c, now);
    for (const k of plan.remove) deleteConnection(db, team, k);
  });
}

export function bulkPools(db: Database, team: string, actions: BulkAction<PoolInput>[]): BulkActionResult[] {
  const where = { table: "pools", column: "name", noun: POOL_NOUN, keyOf: (p: PoolInput) => p.name };
  return runBulk(db, team, actions, where, (plan, existing) => {
    for (const p of plan.put) {
      if (existing.has(p.name))
        updatePool(db, team, p.name, { slots: p.slots, description: p.description, include_deferred: p.include_deferred });
      else createPool(db, team, p);
    }
    for (const k of plan.remove) deletePool(db, team, k);
  });
}
