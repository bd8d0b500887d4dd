/**
 * Variables (Airflow's /api/v2/variables): list, get, create, patch, delete. A variable whose key names a
 * secret (password, token, api_key, …) is shown as "***", as Airflow does; agents and templates get the value.
 * Such a variable is stored encrypted (`is_encrypted: true`); our addition `is_encrypted: true` in a body
 * encrypts (and masks) any other variable too. A PATCH that sends "***" back keeps the stored value.
 */
import { Hono } from "hono";
import { z } from "zod";
import { MASK, NotFoundError, VARIABLE_NOUN, isSensitiveName, type VariableRecord, built, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError } from "./errors";
import { pagingQuery, parseBody, parseQuery } from "./validate";
import { unsealed } from "./sealed";
import { bulkBody, bulkResponse, resolveBulkActions } from "./bulk";
import { teamOf } from "./team";
import { airflowPattern } from "./list-params";

/** Airflow accepts any JSON as value and stores non-strings as their JSON text. */
export const VariableBody = lazySchema(() =>
  z
    .object({
      key: z.string().min(1).max(250),
      value: z.unknown().refine((v) => v !== undefined, "Field required"),
      description: z.string().nullable().optional(),
      /** Ours: store this variable encrypted even if its key does not look secret (one that does always is). */
      is_encrypted: z.boolean().optional(),
    })
    .strict(),
);

export const BulkVariablesBody = lazySchema(() => bulkBody(built(VariableBody), "key"));

export const ListQuery = lazySchema(() => z.object({ ...pagingQuery, variable_key_pattern: z.string().min(1).optional() }));
export const MaskQuery = lazySchema(() => z.object({ update_mask: z.array(z.enum(["value", "description", "is_encrypted"])).optional() }));

/** A variable is shown masked when its key names a secret or it is stored encrypted. */
const isMasked = (v: VariableRecord) => isSensitiveName(v.key) || v.is_encrypted === true;

export function serializeVariable(v: VariableRecord) {
  return { key: v.key, value: isMasked(v) ? MASK : v.value, description: v.description, is_encrypted: v.is_encrypted ?? false };
}

const asText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

export function variableRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const notFound = (key: string) => new NotFoundError(`The Variable with key: \`${key}\` was not found`);

  app.get("/variables", async (c) => {
    const q = parseQuery(c, ListQuery);
    const page = await unsealed(
      store.listVariables(teamOf(c), {
        limit: q.limit,
        offset: q.offset,
        order_by: q.order_by,
        key_pattern: airflowPattern(q.variable_key_pattern),
      }),
      deps.logger,
    );
    return c.json({ variables: page.items.map(serializeVariable), total_entries: page.total });
  });

  /** Airflow's bulk_variables. An update keeps what its entity leaves out, and a secret sent back as "***". */
  app.patch("/variables", async (c) => {
    const body = await parseBody(c, BulkVariablesBody);
    const team = teamOf(c);
    // In order, each over what the earlier actions leave (two updates of one key keep both changes).
    const actions = await resolveBulkActions<z.output<typeof VariableBody>, VariableRecord>(body.actions, {
      noun: VARIABLE_NOUN,
      keyOf: (e) => e.key,
      read: (key) => unsealed(store.getVariable(team, key), deps.logger),
      build: (e, old, action) => (action === "update" && old ? updated(e, old) : created(e)),
    });
    const results = await store.bulkVariables(team, actions, deps.now());
    deps.logger.info("variables bulk-changed", { actions: actions.length, by: c.get("user")?.username ?? null });
    return c.json(bulkResponse(actions, results));
  });
  const created = (e: z.output<typeof VariableBody>): VariableRecord => ({
    key: e.key,
    value: asText(e.value),
    description: e.description ?? null,
    is_encrypted: e.is_encrypted,
  });
  /** An update keeps what its entity leaves out (a missing key: the store answers "not found" or skips). */
  const updated = (e: z.output<typeof VariableBody>, old: VariableRecord): VariableRecord => {
    return {
      key: e.key,
      value: e.value === MASK && isMasked(old) ? old.value : asText(e.value),
      description: "description" in e ? (e.description ?? null) : old.description,
      is_encrypted: e.is_encrypted ?? old.is_encrypted,
    };
  };

  app.get("/variables/:variable_key", async (c) => {
    const key = c.req.param("variable_key");
    const v = await unsealed(store.getVariable(teamOf(c), key), deps.logger);
    if (!v) throw notFound(key);
    return c.json(serializeVariable(v));
  });

  app.post("/variables", async (c) => {
    const body = await parseBody(c, VariableBody);
    const next: VariableRecord = {
      key: body.key,
      value: asText(body.value),
      description: body.description ?? null,
      is_encrypted: body.is_encrypted,
    };
    const v = await store.putVariable(teamOf(c), next, deps.now(), { onlyIfAbsent: true });
    deps.logger.info("variable created", { key: v.key, by: c.get("user")?.username ?? null });
    return c.json(serializeVariable(v), 201);
  });

  app.patch("/variables/:variable_key", async (c) => {
    const key = c.req.param("variable_key");
    const { update_mask } = parseQuery(c, MaskQuery, ["update_mask"]);
    const body = await parseBody(c, VariableBody);
    if (body.key !== key) throw new ApiError(400, `Invalid body, key from request body doesn't match uri parameter (${body.key} ≠ ${key})`);
    const old = await unsealed(store.getVariable(teamOf(c), key), deps.logger);
    if (!old) throw notFound(key);
    const fields = new Set(update_mask ?? ["value", ...(["description", "is_encrypted"] as const).filter((f) => f in body)]);
    // A client that read "***" and sent it back did not mean to change the secret.
    const keepValue = !fields.has("value") || (body.value === MASK && isMasked(old));
    const next: VariableRecord = {
      key,
      value: keepValue ? old.value : asText(body.value),
      description: fields.has("description") ? (body.description ?? null) : old.description,
      is_encrypted: fields.has("is_encrypted") ? (body.is_encrypted ?? false) : old.is_encrypted,
    };
    const v = await store.putVariable(teamOf(c), next, deps.now());
    deps.logger.info("variable updated", { key, by: c.get("user")?.username ?? null });
    return c.json(serializeVariable(v));
  });

  app.delete("/variables/:variable_key", async (c) => {
    const key = c.req.param("variable_key");
    if (!(await store.deleteVariable(teamOf(c), key))) throw notFound(key);
    deps.logger.info("variable deleted", { key, by: c.get("user")?.username ?? null });
    return c.body(null, 204);
  });

  return app;
}
