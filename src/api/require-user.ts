/**
 * Authentication and authorization middleware. With tokens configured, every guarded route needs
 * `Authorization: Bearer <user JWT>` from POST /auth/token; agent tokens are refused. The caller's role is
 * read from the store on every request, so a deleted user's token stops working and a changed role applies
 * at once, not when the token expires. What each role may call is the table in route-permissions.ts.
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { ROLE_NAMES, UserTokenError, hasPermission, leastRoleWith, type UserTokens } from "../auth";
import { DEFAULT_TEAM } from "../domain";
import type { TeamStore, UserStore } from "../store";
import type { ApiEnv } from "./deps";
import { ApiError } from "./errors";
import { TEAM_HEADER, chooseTeam, isInstallAdmin, requestedTeam, teamNotFound } from "./request-team";
import { permissionFor } from "./route-permissions";

const HOW_TO_LOGIN =
  'get a token with POST /auth/token {"username": "...", "password": "..."} and send it as "Authorization: Bearer <access_token>"';

/** A 401 saying why and how to log in (once: a token's own reason may already name POST /auth/token). */
const unauthorized = (why: string) =>
  new ApiError(401, `Not authenticated: ${why}${why.includes("POST /auth/token") ? "" : `; ${HOW_TO_LOGIN}`}`, {
    "WWW-Authenticate": "Bearer",
  });

/**
 * Sets `c.var.user` from the bearer token (401 when missing or invalid) and `c.var.team`, the team the request
 * acts in (request-team.ts); the user's role is their role in that team, read per request. A team the caller
 * may not act in is a 404 exactly like a team that does not exist, so no caller learns other teams' names.
 * With tokens null (--auth=none) every route is open, in `default` unless the request names another team.
 */
export function requireUser(deps: {
  tokens: UserTokens | null;
  now: () => Date;
  store: Pick<UserStore, "getUserAccess"> & Pick<TeamStore, "getTeam">;
}): MiddlewareHandler<ApiEnv> {
  const { tokens, now, store } = deps;
  return async (c, next) => {
    const requested = requestedTeam(c.req.header(TEAM_HEADER), c.req.query("team"));
    if (!tokens) {
      if (requested !== undefined && requested !== DEFAULT_TEAM && !(await store.getTeam(requested)))
        throw new ApiError(404, teamNotFound(requested));
      c.set("user", null);
      c.set("team", requested ?? DEFAULT_TEAM);
      c.set("installAdmin", true);
      return next();
    }
    const header = c.req.header("authorization");
    if (!header) throw unauthorized("the Authorization header is missing");
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (!token) throw unauthorized('the Authorization header is not "Bearer <token>"');
    let username: string;
    try {
      ({ username } = await tokens.verify(token, now()));
    } catch (e) {
      if (e instanceof UserTokenError) throw unauthorized(e.message);
      throw e;
    }
    const roles = await store.getUserAccess(username);
    if (!roles) throw unauthorized(`the token's user "${username}" no longer exists`);
    const installAdmin = isInstallAdmin(roles);
    const chosen = chooseTeam(requested, roles);
    if (!chosen)
      throw new ApiError(
        403,
        `Forbidden: user "${username}" has no role in any team; ask an Admin to grant one (leoflow users grant ${username} --team TEAM --role ROLE)`,
      );
    let role = chosen.role;
    // An install admin acts in any team that exists, as Admin; the lookup runs only when the binding is not enough.
    if (installAdmin && role !== "admin" && (role !== null || (await store.getTeam(chosen.team)))) role = "admin";
    if (role === null) throw new ApiError(404, teamNotFound(chosen.team));
    c.set("user", { username, role });
    c.set("team", chosen.team);
    c.set("installAdmin", installAdmin);
    return next();
  };
}

/**
 * 403 unless the caller's role holds the permission the route table names for the matched route. A route
 * not in the table is Admin-only until it is added (fail closed). Unmatched paths pass on to the 404.
 */
export function authorize(prefix: string): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const user = c.get("user");
    const route = matchedRoutes(c).find((r) => r.method !== "ALL");
    if (!user || !route) return next();
    const needed = permissionFor(route.method, route.path, prefix);
    if (!needed) {
      if (user.role === "admin") return next();
      throw new ApiError(
        403,
        `Forbidden: ${route.method} ${route.path} has no entry in the route permission table (src/api/route-permissions.ts), so only Admins may call it`,
      );
    }
    // Users and teams are install-wide: an Admin of another team must not grant themselves more.
    if (needed === "users:manage" && user.role === "admin" && !c.get("installAdmin"))
      throw new ApiError(
        403,
        `Forbidden: ${route.method} ${route.path} manages users or teams of the whole install, which only an Admin of team "${DEFAULT_TEAM}" may do`,
      );
    if (!hasPermission(user.role, needed))
      throw new ApiError(
        403,
        `Forbidden: user "${user.username}" has role ${ROLE_NAMES[user.role]}, which lacks ${needed} needed for ${route.method} ${route.path}; ask an Admin for the ${ROLE_NAMES[leastRoleWith(needed)]} role or above`,
      );
    return next();
  };
}
