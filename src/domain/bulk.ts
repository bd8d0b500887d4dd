/**
 * Airflow's bulk PATCH (variables, connections, pools): a list of create / update / delete actions, each
 * answered with the keys it changed and its errors. `planBulkAction` is the pure part both stores share:
 * given an action and which of its keys exist, it says what to write, what to delete and what to answer.
 * An action whose `fail` policy trips writes nothing (Airflow's 409 / 404 for that action); the other
 * actions of the request still apply. Stores run every action of one request in one transaction.
 *
 * @example
 * planBulkAction({ action: "create", entities: [{ key: "a" }], action_on_existence: "skip" }, new Set(["a"]), VARIABLE_NOUN, (v) => v.key)
 * // { put: [], remove: [], result: { success: [], errors: [] } }
 */

export type BulkOnExistence = "fail" | "skip" | "overwrite";
export type BulkOnNonExistence = "fail" | "skip";

export type BulkAction<T> =
  | { action: "create"; entities: T[]; action_on_existence: BulkOnExistence }
  | { action: "update"; entities: T[]; action_on_non_existence: BulkOnNonExistence }
  | { action: "delete"; entities: string[]; action_on_non_existence: BulkOnNonExistence };

/** Airflow's BulkActionResponse: keys that succeeded, and one error object per failed action. */
export interface BulkActionResult {
  success: string[];
  errors: { error: string; status_code: number }[];
}

/** How messages name a resource: "The variables with these keys: {...} already exist." */
export interface BulkNoun {
  plural: string;
  keyName: string;
  /** Keys that may never be deleted (default_pool), with the reason. */
  undeletable?: { key: string; reason: string };
}

export const VARIABLE_NOUN: BulkNoun = { plural: "variables", keyName: "keys" };
export const CONNECTION_NOUN: BulkNoun = { plural: "connections", keyName: "connection_ids" };
export const POOL_NOUN: BulkNoun = {
  plural: "pools",
  keyName: "names",
  undeletable: { key: "default_pool", reason: "Default Pool can't be deleted" },
};

export interface BulkPlan<T> {
  /** Entities to insert or replace (create and update both end as an upsert of the whole entity). */
  put: T[];
  /** Keys to delete. */
  remove: string[];
  result: BulkActionResult;
}

/** The keys an action touches, in its order (what a store looks up before planning). */
export function bulkKeys<T>(action: BulkAction<T>, keyOf: (e: T) => string): string[] {
  return action.action === "delete" ? action.entities : action.entities.map(keyOf);
}

const setText = (keys: string[]) => `{${keys.map((k) => `'${k}'`).join(", ")}}`;

export function planBulkAction<T>(
  action: BulkAction<T>,
  existing: ReadonlySet<string>,
  noun: BulkNoun,
  keyOf: (e: T) => string,
): BulkPlan<T> {
  const keys = bulkKeys(action, keyOf);
  const nothing = (status_code: number, error: string): BulkPlan<T> => ({
    put: [],
    remove: [],
    result: { success: [], errors: [{ error, status_code }] },
  });
  const duplicates = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (duplicates.length)
    return nothing(
      400,
      `The ${noun.plural} with these ${noun.keyName}: ${setText([...new Set(duplicates)])} appear more than once in one action; send each once.`,
    );

  if (action.action === "create") {
    const taken = keys.filter((k) => existing.has(k));
    if (action.action_on_existence === "fail" && taken.length)
      return nothing(409, `The ${noun.plural} with these ${noun.keyName}: ${setText(taken)} already exist.`);
    const put = action.entities.filter((e) => action.action_on_existence === "overwrite" || !existing.has(keyOf(e)));
    return { put, remove: [], result: { success: put.map(keyOf), errors: [] } };
  }

  const missing = keys.filter((k) => !existing.has(k));
  if (action.action_on_non_existence === "fail" && missing.length)
    return nothing(404, `The ${noun.plural} with these ${noun.keyName}: ${setText(missing)} were not found.`);
  if (action.action === "update") {
    const put = action.entities.filter((e) => existing.has(keyOf(e)));
    return { put, remove: [], result: { success: put.map(keyOf), errors: [] } };
  }
  const guard = noun.undeletable;
  if (guard && keys.includes(guard.key)) return nothing(400, guard.reason);
  const remove = keys.filter((k) => existing.has(k));
  return { put: [], remove, result: { success: remove, errors: [] } };
}
