/**
 * The team a request acts in. requireUser decides it (the caller's team, or the one an Admin names); route
 * handlers pass it to every store call that reads or writes team-owned data, so a route cannot read another
 * team's rows by forgetting it.
 */
import type { Context } from "hono";
import { DEFAULT_TEAM } from "../domain";
import type { ApiEnv } from "./deps";

export function teamOf(c: Context<ApiEnv>): string {
  return c.get("team") ?? DEFAULT_TEAM;
}
