/**
 * Airflow's bulk PATCH body and answer, shared by /variables, /connections and /pools: `{"actions": [{"action":
 * "create" | "update" | "delete", "entities": [...], "action_on_existence" | "action_on_non_existence"}]}`
 * in, `{"create": {"success": [keys], "errors": [{"error", "status_code"}]} | null, "update": …, "delete": …}`
 * out (200 even when an action failed: its errors say why, and it changed nothing).
 *
 * @example const Body = bulkBody(VariableBody, "key"); bulkResponse(body.actions, await store.bulkVariables(actions, now))
 */
import { z } from "zod";
import { built, lazySchema } from "../domain";
import { planBulkAction, type BulkAction, type BulkActionResult, type BulkNoun } from "../domain";

const onExistence = lazySchema(() => z.enum(["fail", "skip", "overwrite"]).default("fail"));
const onNonExistence = lazySchema(() => z.enum(["fail", "skip"]).default("fail"));

/** BulkBody[Entity]; delete entities are keys, or objects carrying the key field (the spec allows both). */
export function bulkBody<E extends z.ZodType>(entity: E, keyField: string) {
  const deleteEntity = z.union([z.string().min(1), z.looseObject({ [keyField]: z.string().min(1) })]);
  const action = z.discriminatedUnion("action", [
    z.object({ action: z.literal("create"), entities: z.array(entity), action_on_existence: built(onExistence) }).strict(),
    z.object({ action: z.literal("update"), entities: z.array(entity), action_on_non_existence: built(onNonExistence) }).strict(),
    z
      .object({ action: z.literal("delete"), entities: z.array(deleteEntity), action_on_non_existence: built(onNonExistence) })
      .strict()
      .transform((a) => ({ ...a, entities: a.entities.map((e) => (typeof e === "string" ? e : (e[keyField] as string))) })),
  ]);
  return z.object({ actions: z.array(action) }).strict();
}

type ActionName = BulkAction<unknown>["action"];

/** Airflow's BulkResponse: per action kind, the successes and errors of every action of that kind. */
export function bulkResponse(actions: readonly { action: ActionName }[], results: BulkActionResult[]) {
  const out: Record<ActionName, BulkActionResult | null> = { create: null, update: null, delete: null };
  actions.forEach((a, i) => {
    const r = results[i]!;
    const acc = (out[a.action] ??= { success: [], errors: [] });
    acc.success.push(...r.success);
    acc.errors.push(...r.errors);
  });
  return out;
}

/** An action as parsed by bulkBody: entities as sent (deletes already keys). */
export type ParsedBulkAction<E> =
  | (Omit<Extract<BulkAction<E>, { action: "create" }>, "entities"> & { entities: E[] })
  | (Omit<Extract<BulkAction<E>, { action: "update" }>, "entities"> & { entities: E[] })
  | Extract<BulkAction<E>, { action: "delete" }>;

/**
 * The store's actions for a parsed bulk body: each create/update entity made a whole record by `build`, over the
 * record as the request's EARLIER actions leave it. The store writes whole records, in order, in one transaction;
 * building every entity over the stored row alone would make a later action of the same key undo an earlier one
 * (two updates of one connection: the first's host lost; a create then an update: the created password lost). So
 * actions are resolved in order too: what each earlier action will write or delete (predicted by the store's own
 * planner, planBulkAction, over what is stored) is what the next one builds on. Without a concurrent write to the
 * same keys the prediction is exact; with one, the store's answer still decides which actions apply.
 *
 * @example await resolveBulkActions(body.actions, { noun: VARIABLE_NOUN, keyOf: (v) => v.key, read, build })
 */
export async function resolveBulkActions<E, T>(
  actions: readonly ParsedBulkAction<E>[],
  how: {
    noun: BulkNoun;
    keyOf: (e: E | T) => string;
    /** The stored record of a key, or null. */
    read: (key: string) => Promise<T | null>;
    /** The record to write for an entity; `old` is the key's record before this action (null: none). */
    build: (e: E, old: T | null, action: "create" | "update") => T | Promise<T>;
  },
): Promise<BulkAction<T>[]> {
  const current = new Map<string, T | null>(); // key → its record after the actions resolved so far (null: absent)
  const recordOf = async (key: string): Promise<T | null> => {
    if (!current.has(key)) current.set(key, await how.read(key));
    return current.get(key) ?? null;
  };
  const out: BulkAction<T>[] = [];
  for (const a of actions) {
    const keys = a.action === "delete" ? a.entities : a.entities.map(how.keyOf);
    const existing = new Set<string>();
    for (const k of keys) if ((await recordOf(k)) !== null) existing.add(k);
    let action: BulkAction<T>;
    if (a.action === "delete") action = a;
    else {
      const entities: T[] = [];
      for (const e of a.entities) entities.push(await how.build(e, await recordOf(how.keyOf(e)), a.action));
      action = { ...a, entities } as BulkAction<T>;
    }
    const plan = planBulkAction(action, existing, how.noun, how.keyOf);
    for (const e of plan.put) current.set(how.keyOf(e), e);
    for (const k of plan.remove) current.set(k, null);
    out.push(action);
  }
  return out;
}
