/**
 * Who the user is in which team, from GET /api/v2/leoflow/me: the teams the picker offers and the role the
 * UI draws buttons for in the chosen team. Pure; the server still checks every call.
 */
import type { Role } from "./session";

export interface Me {
  username: string | null;
  /** The team this request acted in (the `Leoflow-Team` header, else the server's default for the user). */
  team: string;
  /** The role in that team, Airflow's name (`Admin`, `Op`, `User`, `Viewer`). */
  role: string;
  roles: { team: string; role: string }[];
  /** An Admin of team `default`: may act in every team (GET /api/v2/leoflow/teams lists them). */
  install_admin: boolean;
}

const ROLES: readonly Role[] = ["viewer", "user", "op", "admin"];

/** Airflow's role name as the UI's role; null for a name it does not know. */
export function uiRole(name: string): Role | null {
  const r = name.toLowerCase() as Role;
  return ROLES.includes(r) ? r : null;
}

/** The teams to offer, by name: those the user holds a role in, and for an install admin every team. */
export function teamChoices(me: Me, allTeams: readonly string[] = []): string[] {
  const names = new Set(me.roles.map((r) => r.team));
  names.add(me.team);
  if (me.install_admin) for (const t of allTeams) names.add(t);
  return [...names].sort();
}
