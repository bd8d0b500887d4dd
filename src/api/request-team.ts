/**
 * Which team a request acts in, and with which role: the rule requireUser applies, pure so it is tested
 * without a server. The caller names a team with the `Leoflow-Team` header or the `team` query parameter;
 * without one, a caller with one team acts in it, else in `default` when they have a role there, else in
 * their first team by name.
 */
import type { Role } from "../auth";
import { DEFAULT_TEAM } from "../domain";
import type { TeamRole } from "../store";

export const TEAM_HEADER = "Leoflow-Team";

/**
 * - `{ team, role }`: act in `team` with `role`;
 * - `{ team, role: null }`: the caller named `team` and has no role there (an install admin may still act in
 *   it if it exists; anyone else gets the same 404 as for a team that does not exist);
 * - null: the caller named no team and has no role anywhere.
 */
export function chooseTeam(requested: string | undefined, roles: readonly TeamRole[]): { team: string; role: Role | null } | null {
  if (requested !== undefined) return { team: requested, role: roles.find((r) => r.team === requested)?.role ?? null };
  const only = roles.length === 1 ? roles[0] : undefined;
  const chosen = only ?? roles.find((r) => r.team === DEFAULT_TEAM) ?? [...roles].sort((a, b) => (a.team < b.team ? -1 : 1))[0];
  return chosen ? { team: chosen.team, role: chosen.role } : null;
}

/** An Admin of team `default`: manages teams and users, and may act in any team with Admin rights. */
export const isInstallAdmin = (roles: readonly TeamRole[]): boolean => roles.some((r) => r.team === DEFAULT_TEAM && r.role === "admin");

/** The team the request names: the header first, then `?team=`; undefined when neither (or empty). */
export function requestedTeam(header: string | undefined, query: string | undefined): string | undefined {
  return header?.trim() || query?.trim() || undefined;
}

/** The 404 for a team the caller may not see, the same whether it exists or not. */
export const teamNotFound = (team: string): string => `Team "${team}" not found`;
