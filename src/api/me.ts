/**
 * GET /api/v2/leoflow/me: who the caller is here. The web UI builds its team picker and hides what the role
 * may not do from it; the CLI shows it after `leoflow login`. Any authenticated user may call it (it reads
 * only the caller's own roles), in whatever team the request acts in.
 *
 * `roles` lists the teams the caller holds a role in; an install admin (Admin of team `default`) may also act
 * in every other team (GET /api/v2/leoflow/teams lists them). With --auth=none there is no user: `username`
 * is null, `roles` empty, and the caller is an install admin.
 *
 * @example curl -H "Authorization: Bearer $T" -H "Leoflow-Team: alpha" …/api/v2/leoflow/me
 * // {"username":"ada","team":"alpha","role":"Op","roles":[{"team":"alpha","role":"Op"}],"install_admin":false}
 */
import { Hono } from "hono";
import { ROLE_NAMES } from "../auth";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { teamOf } from "./team";

export const ME_PATH = "/leoflow/me";

export function meRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get(ME_PATH, async (c) => {
    const user = c.get("user");
    const roles = user ? await deps.store.getUserRoles(user.username) : [];
    return c.json({
      username: user?.username ?? null,
      team: teamOf(c),
      // The role this request acts with: an install admin acting in a team where they hold less is Admin there.
      role: ROLE_NAMES[user?.role ?? "admin"],
      roles: roles.map((r) => ({ team: r.team, role: ROLE_NAMES[r.role] })),
      install_admin: c.get("installAdmin"),
    });
  });
  return app;
}
