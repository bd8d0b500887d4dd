/**
 * The users API, install admins only (route-permissions.ts, authorize): list, get, create, patch (role,
 * password, roles per team), delete, and one team's role (PUT/DELETE …/roles/{team}). Airflow 3's v2 API has
 * no users (they live in the FAB provider's own API), so it is Leoflow's: /api/v2/leoflow/users. Roles use
 * Airflow's names (Admin, Op, User, Viewer; any case accepted); `role` alone is the role in team `default`.
 * The last Admin of `default` can be neither deleted nor demoted. Responses never carry the password hash.
 */
import { Hono } from "hono";
import { z } from "zod";
import { built, lazySchema } from "../domain";
import { UserError, createUser, deleteUser, setRole, updateUser, viewUser } from "../auth";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError, RequestValidationError } from "./errors";
import { pagingQuery, parseBody, parseQuery } from "./validate";

export const USERS_PATH = "/leoflow/users";

const TeamRoleBody = lazySchema(() => z.object({ team: z.string(), role: z.string() }).strict());
export const CreateBody = lazySchema(() =>
  z
    .object({ username: z.string(), password: z.string(), role: z.string().optional(), roles: z.array(built(TeamRoleBody)).optional() })
    .strict(),
);
/** `roles`: each entry sets the user's role in that team; role null removes it. */
export const PatchBody = lazySchema(() =>
  z
    .object({
      role: z.string().optional(),
      password: z.string().optional(),
      roles: z.array(z.object({ team: z.string(), role: z.string().nullable() }).strict()).optional(),
    })
    .strict()
    .refine((b) => b.role !== undefined || b.password !== undefined || b.roles !== undefined, {
      message: "give role, password, roles or any of them",
    }),
);
export const PutRoleBody = lazySchema(() => z.object({ role: z.string() }).strict());
export const ListQuery = lazySchema(() => z.object({ limit: pagingQuery.limit, offset: pagingQuery.offset }));

/** UserError → Airflow's status: 422 naming the field, 404, or 409. */
function toHttp(e: unknown): unknown {
  if (!(e instanceof UserError)) return e;
  if (e.kind === "invalid") return new RequestValidationError([{ loc: ["body", e.field ?? "body"], msg: e.message, type: "value_error" }]);
  return new ApiError(e.kind === "not_found" ? 404 : 409, e.message);
}

async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw toHttp(e);
  }
}

export function userRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.get(USERS_PATH, async (c) => {
    const q = parseQuery(c, ListQuery);
    const all = await store.listUsers();
    const page = await Promise.all(all.slice(q.offset, q.offset + q.limit).map((u) => viewUser(store, u)));
    return c.json({ users: page, total_entries: all.length });
  });

  app.get(`${USERS_PATH}/:username`, async (c) => {
    const username = c.req.param("username");
    const user = await store.getUser(username);
    if (!user) throw new ApiError(404, `user "${username}" does not exist; GET ${`/api/v2${USERS_PATH}`} lists who does`);
    return c.json(await viewUser(store, user));
  });

  app.post(USERS_PATH, async (c) => {
    const body = await parseBody(c, CreateBody);
    return c.json(await viewUser(store, await answer(() => createUser(store, body, deps.now()))), 201);
  });

  app.patch(`${USERS_PATH}/:username`, async (c) => {
    const { roles, ...body } = await parseBody(c, PatchBody);
    const username = c.req.param("username");
    // One change at a time, each checked on its own (a refused one stops the rest and says which).
    let user = body.role !== undefined || body.password !== undefined ? await answer(() => updateUser(store, username, body)) : null;
    for (const grant of roles ?? []) await answer(() => setRole(store, username, grant));
    user ??= await store.getUser(username);
    if (!user) throw new ApiError(404, `user "${username}" does not exist; GET ${`/api/v2${USERS_PATH}`} lists who does`);
    return c.json(await viewUser(store, user));
  });

  app.put(`${USERS_PATH}/:username/roles/:team`, async (c) => {
    const { role } = await parseBody(c, PutRoleBody);
    const username = c.req.param("username");
    await answer(() => setRole(store, username, { team: c.req.param("team"), role }));
    const user = await store.getUser(username);
    if (!user) throw new ApiError(404, `user "${username}" does not exist; GET ${`/api/v2${USERS_PATH}`} lists who does`);
    return c.json(await viewUser(store, user));
  });

  app.delete(`${USERS_PATH}/:username/roles/:team`, async (c) => {
    await answer(() => setRole(store, c.req.param("username"), { team: c.req.param("team"), role: null }));
    return c.body(null, 204);
  });

  app.delete(`${USERS_PATH}/:username`, async (c) => {
    await answer(() => deleteUser(store, c.req.param("username")));
    return c.body(null, 204);
  });
  return app;
}
