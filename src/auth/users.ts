/**
 * Managing users, shared by the users API and `leoflow users`: the checks (name, password, role), hashing,
 * and the store's answer turned into an error that says what to do. Callers map UserError.kind to a status
 * or an exit message.
 *
 * @example
 * const u = await createUser(store, { username: "ada", password: "correct horse", role: "Op" }, new Date());
 */
import { DEFAULT_TEAM, LeoflowError, teamNameProblem, type UserRecord } from "../domain";
import type { TeamRole, TeamStore, UserChange, UserStore } from "../store";
import { hashPassword } from "./passwords";
import { ROLE_CHOICES, ROLE_NAMES, parseRole, type Role } from "./roles";

export type UserErrorKind = "invalid" | "not_found" | "exists" | "last_admin";

export class UserError extends LeoflowError {
  constructor(
    readonly kind: UserErrorKind,
    message: string,
    /** The input field at fault, for "invalid". */
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * What the API and the CLI show of a user: never the hash. `role` is the role in team `default` (null when
 * the user has none there), `roles` every team's.
 */
export interface UserView {
  username: string;
  role: string | null;
  roles: { team: string; role: string }[];
  created_at: string;
}

export const toUserView = (u: UserRecord, roles: readonly TeamRole[]): UserView => {
  const inDefault = roles.find((r) => r.team === DEFAULT_TEAM);
  return {
    username: u.username,
    role: inDefault ? ROLE_NAMES[inDefault.role] : null,
    roles: roles.map((r) => ({ team: r.team, role: ROLE_NAMES[r.role] })),
    created_at: u.created_at.toISOString(),
  };
};

/** The user's view with its roles read from the store. */
export async function viewUser(store: Pick<UserStore, "getUserRoles">, u: UserRecord): Promise<UserView> {
  return toUserView(u, await store.getUserRoles(u.username));
}

export const USERNAME_RULE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 8;

export function checkUsername(username: string): string {
  if (!USERNAME_RULE.test(username))
    throw new UserError(
      "invalid",
      `username "${username}" is not valid: use 1 to 64 letters, digits, _ . @ or -, starting with a letter or digit`,
      "username",
    );
  return username;
}

export function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new UserError("invalid", `password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`, "password");
  return password;
}

export function checkRole(name: string): Role {
  const role = parseRole(name);
  if (!role) throw new UserError("invalid", `role "${name}" is not one of ${ROLE_CHOICES}`, "role");
  return role;
}

/** A role grant as given (Airflow's role names, any case); `role` null removes the user's role in the team. */
export interface RoleGrant {
  team: string;
  role: string | null;
}

type TeamsAndUsers = UserStore & Pick<TeamStore, "getTeam">;

/**
 * Creates a user with `role` in team `default`, and/or the given `roles` per team (then it has exactly
 * those: a user made for one team holds no role in `default`).
 */
export async function createUser(
  store: TeamsAndUsers,
  input: { username: string; password: string; role?: string; roles?: { team: string; role: string }[] },
  now: Date,
): Promise<UserRecord> {
  const username = checkUsername(input.username);
  if (input.role === undefined && !input.roles?.length)
    throw new UserError("invalid", `give the user a role (in team "${DEFAULT_TEAM}") or roles per team`, "role");
  const role = input.role === undefined ? undefined : checkRole(input.role);
  const roles = input.roles === undefined ? undefined : await checkRoles(store, input.roles);
  const password_hash = await hashPassword(checkPassword(input.password));
  if (await store.getUser(username)) throw userExists(username);
  if (roles && role) {
    if (roles.some((r) => r.team === DEFAULT_TEAM))
      throw new UserError("invalid", `give the role in team "${DEFAULT_TEAM}" once: as role or in roles, not both`, "roles");
    roles.push({ team: DEFAULT_TEAM, role });
  }
  // Checked above for the usual case; added only if still absent, so of two creates at once the second answers "exists".
  if (!(await store.addUser({ username, password_hash, role: role ?? "viewer" }, now, roles))) throw userExists(username);
  const created = await store.getUser(username);
  if (!created) throw new UserError("not_found", `user "${username}" was deleted while it was being created`);
  return created;
}

const userExists = (username: string) =>
  new UserError("exists", `user "${username}" already exists; change it with PATCH (or \`leoflow users reset-password\`)`);

/** Grants (or with role null, removes) the user's role in one team; refuses to leave `default` without an Admin. */
export async function setRole(store: TeamsAndUsers, username: string, grant: RoleGrant): Promise<TeamRole[]> {
  checkTeamName(grant.team);
  const r = await store.setUserRole(username, grant.team, grant.role === null ? null : checkRole(grant.role));
  if (r === "missing_user") throw new UserError("not_found", `user "${username}" does not exist; list users to see who does`);
  if (r === "missing_team")
    throw new UserError(
      "not_found",
      `team "${grant.team}" does not exist; list teams (GET /api/v2/leoflow/teams, \`leoflow teams list\`) to see which do`,
    );
  if (r === "last_admin")
    throw new UserError(
      "last_admin",
      `cannot change the role of "${username}" in team "${DEFAULT_TEAM}": it is its last Admin, and without one nobody can manage users and teams; make another Admin there first`,
    );
  return r;
}

function checkTeamName(team: string): string {
  const problem = teamNameProblem(team);
  if (problem) throw new UserError("invalid", problem, "team");
  return team;
}

/** Roles per team for a new user: valid names and roles, existing teams, each team once. */
async function checkRoles(store: Pick<TeamStore, "getTeam">, grants: { team: string; role: string }[]): Promise<TeamRole[]> {
  const out: TeamRole[] = [];
  for (const g of grants) {
    checkTeamName(g.team);
    if (out.some((r) => r.team === g.team))
      throw new UserError("invalid", `team "${g.team}" is listed twice in roles; give each team once`, "roles");
    if (!(await store.getTeam(g.team)))
      throw new UserError(
        "invalid",
        `team "${g.team}" does not exist; create it first (POST /api/v2/leoflow/teams, \`leoflow teams create\`)`,
        "roles",
      );
    out.push({ team: g.team, role: checkRole(g.role) });
  }
  return out;
}

/** Changes role and/or password; refuses to demote the last admin. */
export async function updateUser(store: UserStore, username: string, input: { role?: string; password?: string }): Promise<UserRecord> {
  const change: UserChange = {};
  if (input.role !== undefined) change.role = checkRole(input.role);
  if (input.password !== undefined) change.password_hash = await hashPassword(checkPassword(input.password));
  return applyChange(store, username, change, `demote "${username}"`);
}

/** Deletes the user; refuses to delete the last admin. */
export async function deleteUser(store: UserStore, username: string): Promise<UserRecord> {
  return applyChange(store, username, { delete: true }, `delete "${username}"`);
}

async function applyChange(store: UserStore, username: string, change: UserChange, what: string): Promise<UserRecord> {
  const r = await store.changeUser(username, change);
  if (r === "missing") throw new UserError("not_found", `user "${username}" does not exist; list users to see who does`);
  if (r === "last_admin")
    throw new UserError(
      "last_admin",
      `cannot ${what}: it is the last Admin, and without one nobody can manage users; make another Admin first`,
    );
  return r;
}
