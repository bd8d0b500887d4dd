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
import type { BulkAction, BulkActionResult } from "../domain";

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
