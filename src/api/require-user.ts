/**
 * Authentication and authorization middleware. With tokens configured, every guarded route needs
 * `Authorization: Bearer <user JWT>` from POST /auth/token; agent tokens are refused. Viewers may only read.
 */
import type { MiddlewareHandler } from "hono";
import { UserTokenError, type Role, type UserTokens } from "../auth";
import type { ApiEnv } from "./deps";
import { ApiError } from "./errors";

const HOW_TO_LOGIN =
  'get a token with POST /auth/token {"username": "...", "password": "..."} and send it as "Authorization: Bearer <access_token>"';

const unauthorized = (why: string) => new ApiError(401, `Not authenticated: ${why}; ${HOW_TO_LOGIN}`, { "WWW-Authenticate": "Bearer" });

/** Sets `c.var.user` from the bearer token; 401 when missing or invalid. With tokens null, lets all through. */
export function requireUser(tokens: UserTokens | null, now: () => Date): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (!tokens) {
      c.set("user", null);
      return next();
    }
    const header = c.req.header("authorization");
    if (!header) throw unauthorized("the Authorization header is missing");
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('the Authorization header is not "Bearer <token>"');
    try {
      c.set("user", await tokens.verify(match[1]!, now()));
    } catch (e) {
      if (e instanceof UserTokenError) throw unauthorized(e.message);
      throw e;
    }
    return next();
  };
}

const WRITERS: ReadonlySet<Role> = new Set(["admin", "op", "user"]);

/** Guards changes (trigger, pause): the viewer role is read-only (403). */
export const requireWriter: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const user = c.get("user");
  if (user && !WRITERS.has(user.role))
    throw new ApiError(
      403,
      `Forbidden: user "${user.username}" has role ${user.role}, which may only read; ask an admin for the user, op or admin role`,
    );
  return next();
};
