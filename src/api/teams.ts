/**
 * The teams API (Leoflow's own, like users): list, create, get, change and delete teams with their quotas
 * and executor policy. Install admins only (an Admin of team `default`): route-permissions.ts names
 * users:manage and authorize refuses it to other teams' Admins. A new team gets its own `default_pool`.
 *
 * @example curl -X POST -H "Authorization: Bearer $T" -d '{"name":"data-eng","max_running_tasks":50}' …/api/v2/leoflow/teams
 */
import { Hono } from "hono";
import { z } from "zod";
import { teamNameProblem, type TeamRecord, lazySchema } from "../domain";
import { TeamFieldsSchema } from "../domain/schemas";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError } from "./errors";
import { teamNotFound } from "./request-team";
import { pagingQuery, parseBody, parseQuery } from "./validate";

export const TEAMS_PATH = "/leoflow/teams";

export const CreateTeamBody = lazySchema(() =>
  TeamFieldsSchema.extend({
    name: z.string().superRefine((n, ctx) => {
      const problem = teamNameProblem(n);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  }),
);
export const PatchTeamBody = TeamFieldsSchema;
export const ListTeamsQuery = lazySchema(() => z.object({ limit: pagingQuery.limit, offset: pagingQuery.offset }));

/** What the API shows of a team. */
export const toTeamView = (t: TeamRecord) => ({ ...t, created_at: t.created_at.toISOString() });

export function teamRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const found = async (name: string) => {
    const team = await store.getTeam(name);
    if (!team) throw new ApiError(404, teamNotFound(name));
    return team;
  };

  app.get(TEAMS_PATH, async (c) => {
    const q = parseQuery(c, ListTeamsQuery);
    const all = await store.listTeams();
    return c.json({ teams: all.slice(q.offset, q.offset + q.limit).map(toTeamView), total_entries: all.length });
  });

  app.get(`${TEAMS_PATH}/:team`, async (c) => c.json(toTeamView(await found(c.req.param("team")))));

  app.post(TEAMS_PATH, async (c) => {
    const b = await parseBody(c, CreateTeamBody);
    const team = await store.createTeam(
      {
        name: b.name,
        description: b.description ?? null,
        max_running_tasks: b.max_running_tasks ?? null,
        max_pool_slots: b.max_pool_slots ?? null,
        max_inline_requests: b.max_inline_requests ?? null,
        executor_policy: b.executor_policy ?? {},
      },
      deps.now(),
    );
    deps.logger.info("team created", { team: team.name, by: c.get("user")?.username ?? null });
    deps.scheduler.teamsChanged?.();
    return c.json(toTeamView(team), 201);
  });

  app.patch(`${TEAMS_PATH}/:team`, async (c) => {
    const name = c.req.param("team");
    const patch = await parseBody(c, PatchTeamBody);
    const team = await store.updateTeam(name, patch);
    if (!team) throw new ApiError(404, teamNotFound(name));
    deps.scheduler.teamsChanged?.();
    return c.json(toTeamView(team));
  });

  app.delete(`${TEAMS_PATH}/:team`, async (c) => {
    const name = c.req.param("team");
    // ConflictError (409) for `default` and for a team that still owns DAGs, with what to do.
    if (!(await store.deleteTeam(name))) throw new ApiError(404, teamNotFound(name));
    deps.logger.info("team deleted", { team: name, by: c.get("user")?.username ?? null });
    return c.body(null, 204);
  });
  return app;
}
