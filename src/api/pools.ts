/**
 * Pools (Airflow's /api/v2/pools): list, get, create, patch, delete, with live usage, of the request's team.
 * Each team has its own default_pool (the team `default`'s from the first migration, every other team's
 * from its creation); it cannot be deleted and only its slots and include_deferred can change.
 */
import { Hono } from "hono";
import { z } from "zod";
import { DEFAULT_TEAM, NotFoundError, POOL_NOUN, occupiedSlots, type PoolInput, type PoolRecord, built, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError } from "./errors";
import { pagingQuery, parseBody, parseQuery } from "./validate";
import { bulkBody, bulkResponse, resolveBulkActions } from "./bulk";
import { teamOf } from "./team";
import { airflowPattern } from "./list-params";

export const DEFAULT_POOL = "default_pool";

const slots = lazySchema(() => z.number().int().min(-1, "Number of slots must be -1 (unlimited) or more"));
/** A pool belongs to the team the request acts in, never to one its body names: team_name may only be null. */
const teamName = lazySchema(() =>
  z.null({ error: "team_name cannot be set: a pool belongs to the team the request acts in (the Leoflow-Team header)" }).optional(),
);

export const PoolBody = lazySchema(() =>
  z
    .object({
      name: z.string().min(1).max(256),
      slots: built(slots),
      description: z.string().nullable().optional(),
      include_deferred: z.boolean().default(false),
      team_name: built(teamName),
    })
    .strict(),
);

/** Airflow's PoolPatchBody: the name may come as `pool` or `name` and must match the path. */
export const PoolPatchBody = lazySchema(() =>
  z
    .object({
      pool: z.string().nullable().optional(),
      name: z.string().nullable().optional(),
      slots: slots.nullable().optional(),
      description: z.string().nullable().optional(),
      include_deferred: z.boolean().nullable().optional(),
      team_name: built(teamName),
    })
    .strict(),
);

/** In a bulk update, what an entity leaves out keeps its stored value (so include_deferred has no default there). */
export const BulkPoolsBody = lazySchema(() => bulkBody(PoolBody.extend({ include_deferred: z.boolean().optional() }), "name"));
type BulkPoolEntity = { name: string; slots: number; description?: string | null; include_deferred?: boolean };

const PATCHABLE = ["slots", "description", "include_deferred"] as const;
export const ListQuery = lazySchema(() => z.object({ ...pagingQuery, pool_name_pattern: z.string().min(1).optional() }));
export const MaskQuery = lazySchema(() => z.object({ update_mask: z.array(z.string()).optional() }));

/**
 * Airflow's PoolResponse. Occupied = running + queued, + deferred when include_deferred (occupiedSlots; deferred_slots
 * is answered either way, as Airflow does); open is -1 when unlimited.
 */
export function serializePool(p: PoolRecord) {
  const occupied = occupiedSlots(p);
  return {
    name: p.name,
    slots: p.slots,
    description: p.description,
    include_deferred: p.include_deferred,
    occupied_slots: occupied,
    running_slots: p.running_slots,
    queued_slots: p.queued_slots,
    scheduled_slots: p.scheduled_slots,
    open_slots: p.slots < 0 ? -1 : p.slots - occupied,
    deferred_slots: p.deferred_slots,
    // The team `default` answers as Airflow without multi_team mode does, so single-team clients see no change.
    team_name: p.team === DEFAULT_TEAM ? null : p.team,
  };
}

const notFound = (name: string) => new NotFoundError(`The Pool with name: \`${name}\` was not found`);

export function poolRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/pools", async (c) => {
    const q = parseQuery(c, ListQuery);
    const page = await store.listPools(teamOf(c), {
      limit: q.limit,
      offset: q.offset,
      order_by: q.order_by,
      name_pattern: airflowPattern(q.pool_name_pattern),
    });
    return c.json({ pools: page.items.map(serializePool), total_entries: page.total });
  });

  /** Airflow's bulk_pools. */
  app.patch("/pools", async (c) => {
    const body = await parseBody(c, BulkPoolsBody);
    const team = teamOf(c);
    // In order, each over what the earlier actions leave (a create then an update keeps the created description).
    const actions = await resolveBulkActions<BulkPoolEntity, PoolInput>(body.actions, {
      noun: POOL_NOUN,
      keyOf: (e) => e.name,
      read: async (name) => {
        const p = await store.getPool(team, name);
        return p && { name: p.name, slots: p.slots, description: p.description, include_deferred: p.include_deferred };
      },
      build: (e, old, action) => poolInput(e, action === "update" ? old : null),
    });
    const results = await store.bulkPools(team, actions);
    deps.logger.info("pools bulk-changed", { actions: actions.length, by: c.get("user")?.username ?? null });
    deps.scheduler.wake(); // more slots may let waiting tasks start
    return c.json(bulkResponse(actions, results));
  });
  /** A bulk entity as a whole pool: what an update leaves out keeps `old`'s value. */
  function poolInput(e: BulkPoolEntity, old: PoolInput | null): PoolInput {
    return {
      name: e.name,
      slots: e.slots,
      description: e.description !== undefined ? e.description : (old?.description ?? null),
      include_deferred: e.include_deferred ?? old?.include_deferred ?? false,
    };
  }

  app.get("/pools/:pool_name", async (c) => {
    const name = c.req.param("pool_name");
    const pool = await store.getPool(teamOf(c), name);
    if (!pool) throw notFound(name);
    return c.json(serializePool(pool));
  });

  app.post("/pools", async (c) => {
    const body = await parseBody(c, PoolBody);
    const pool = await store.createPool(teamOf(c), {
      name: body.name,
      slots: body.slots,
      description: body.description ?? null,
      include_deferred: body.include_deferred,
    });
    deps.logger.info("pool created", { pool: pool.name, slots: pool.slots, by: c.get("user")?.username ?? null });
    deps.scheduler.wake(); // tasks waiting for this pool may start now
    return c.json(serializePool(pool), 201);
  });

  app.patch("/pools/:pool_name", async (c) => {
    const name = c.req.param("pool_name");
    const { update_mask } = parseQuery(c, MaskQuery, ["update_mask"]);
    const body = await parseBody(c, PoolPatchBody);
    const bodyName = body.pool ?? body.name;
    if (bodyName != null && bodyName !== name)
      throw new ApiError(400, `Invalid body, pool name from request body doesn't match uri parameter (${bodyName} ≠ ${name})`);
    const unknown = (update_mask ?? []).filter((f) => !(PATCHABLE as readonly string[]).includes(f) && f !== "name" && f !== "pool");
    if (unknown.length) throw new ApiError(400, `update_mask names unknown field(s) ${unknown.join(", ")}; use ${PATCHABLE.join(", ")}`);
    const fields = PATCHABLE.filter((f) => (update_mask ? update_mask.includes(f) : body[f] !== undefined));
    if (name === DEFAULT_POOL && fields.includes("description"))
      throw new ApiError(400, "Only slots and included_deferred can be modified on Default Pool");
    const patch: { slots?: number; description?: string | null; include_deferred?: boolean } = {};
    for (const f of fields) {
      const v = body[f];
      if (f === "description") patch.description = (v as string | null | undefined) ?? null;
      else if (v === null || v === undefined) throw new ApiError(400, `${f} cannot be null; send a value or leave it out of update_mask`);
      else if (f === "slots") patch.slots = v as number;
      else patch.include_deferred = v as boolean;
    }
    const pool = await store.updatePool(teamOf(c), name, patch);
    if (!pool) throw notFound(name);
    deps.logger.info("pool updated", { pool: name, fields, by: c.get("user")?.username ?? null });
    deps.scheduler.wake(); // more slots may let waiting tasks start
    return c.json(serializePool(pool));
  });

  app.delete("/pools/:pool_name", async (c) => {
    const name = c.req.param("pool_name");
    if (name === DEFAULT_POOL) throw new ApiError(400, "Default Pool can't be deleted");
    if (!(await store.deletePool(teamOf(c), name))) throw notFound(name);
    deps.logger.info("pool deleted", { pool: name, by: c.get("user")?.username ?? null });
    return c.body(null, 204);
  });

  return app;
}
