/**
 * The users API, Admin only (route-permissions.ts): list, get, create, patch (role, password), delete.
 * Airflow 3's v2 API has no users (they live in the FAB provider's own API), so it is Leoflow's:
 * /api/v2/leoflow/users. Roles use Airflow's names (Admin, Op, User, Viewer; any case accepted). The last
 * Admin can be neither deleted nor demoted. Responses never carry the password hash.
 */
import { Hono } from "hono";
import { z } from "zod";
import { UserError, createUser, deleteUser, toUserView, updateUser } from "../auth";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError, RequestValidationError } from "./errors";
import { pagingQuery, parseBody, parseQuery } from "./validate";

export const USERS_PATH = "/leoflow/users";

export const CreateBody = z.object({ username: z.string(), password: z.string(), role: z.string() }).strict();
export const PatchBody = z
  .object({ role: z.string().optional(), password: z.string().optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.password !== undefined, { message: "give role, password or both" });
export const ListQuery = z.object({ limit: pagingQuery.limit, offset: pagingQuery.offset });

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
    return c.json({ users: all.slice(q.offset, q.offset + q.limit).map(toUserView), total_entries: all.length });
  });

  app.get(`${USERS_PATH}/:username`, async (c) => {
    const username = c.req.param("username");
    const user = await store.getUser(username);
    if (!user) throw new ApiError(404, `user "${username}" does not exist; GET ${"/api/v2" + USERS_PATH} lists who does`);
    return c.json(toUserView(user));
  });

  app.post(USERS_PATH, async (c) => {
    const body = await parseBody(c, CreateBody);
    return c.json(toUserView(await answer(() => createUser(store, body, deps.now()))), 201);
  });

  app.patch(`${USERS_PATH}/:username`, async (c) => {
    const body = await parseBody(c, PatchBody);
    return c.json(toUserView(await answer(() => updateUser(store, c.req.param("username"), body))));
  });

  app.delete(`${USERS_PATH}/:username`, async (c) => {
    await answer(() => deleteUser(store, c.req.param("username")));
    return c.body(null, 204);
  });
  return app;
}
