/**
 * Authentication and authorization middleware. With tokens configured, every guarded route needs
 * `Authorization: Bearer <user JWT>` from POST /auth/token; agent tokens are refused. The caller's role is
 * read from the store on every request, so a deleted user's token stops working and a changed role applies
 * at once, not when the token expires. What each role may call is the table in route-permissions.ts.
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { ROLE_NAMES, UserTokenError, hasPermission, leastRoleWith, type UserTokens } from "../auth";
import type { UserStore } from "../store";
import type { ApiEnv } from "./deps";
import { ApiError } from "./errors";
import { permissionFor } from "./route-permissions";

const HOW_TO_LOGIN =
  'get a token with POST /auth/token {"username": "...", "password": "..."} and send it as "Authorization: Bearer <access_token>"';

const unauthorized = (why: string) => new ApiError(401, `Not authenticated: ${why}; ${HOW_TO_LOGIN}`, { "WWW-Authenticate": "Bearer" });

/** Sets `c.var.user` from the bearer token; 401 when missing or invalid. With tokens null, lets all through. */
export function requireUser(deps: {
  tokens: UserTokens | null;
  now: () => Date;
  store: Pick<UserStore, "getUser">;
}): MiddlewareHandler<ApiEnv> {
  const { tokens, now, store } = deps;
  return async (c, next) => {
    if (!tokens) {
      c.set("user", null);
      return next();
    }
    const header = c.req.header("authorization");
    if (!header) throw unauthorized("the Authorization header is missing");
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('the Authorization header is not "Bearer <token>"');
    let username: string;
    try {
      ({ username } = await tokens.verify(match[1]!, now()));
    } catch (e) {
      if (e instanceof UserTokenError) throw unauthorized(e.message);
      throw e;
    }
    const user = await store.getUser(username);
    if (!user) throw unauthorized(`the token's user "${username}" no longer exists`);
    c.set("user", { username, role: user.role });
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
    if (!hasPermission(user.role, needed))
      throw new ApiError(
        403,
        `Forbidden: user "${user.username}" has role ${ROLE_NAMES[user.role]}, which lacks ${needed} needed for ${route.method} ${route.path}; ask an Admin for the ${ROLE_NAMES[leastRoleWith(needed)]} role or above`,
      );
    return next();
  };
}

/**
 * Kept for the route files that still name it; the permission table (authorize) already refuses every write
 * a Viewer attempts, so this adds nothing and can go with those call sites.
 */
export const requireWriter: MiddlewareHandler<ApiEnv> = async (_c, next) => next();
