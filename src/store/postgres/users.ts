/** Users of the API and UI, and their roles per team (see ports/users.ts for what users.role means). */
import { ConflictError, DEFAULT_TEAM, type UserRecord } from "../../domain";
import type { SetUserRoleResult, TeamRole, UserChange, UserChangeResult } from "../ports/users";
import { execute, query, type Db, type Pool } from "./client";
import { toUser, type UserRow } from "./rows";
import { defaultRoleOf, newUserRoles } from "../user-roles";

type Role = UserRecord["role"];

export async function getUser(db: Db, username: string): Promise<UserRecord | null> {
  const [row] = await query<UserRow>(db, "SELECT username, password_hash, role, created_at FROM users WHERE username = $1", [username]);
  return row ? toUser(row) : null;
}

/** Inserts, or replaces password and role of an existing user (its created_at stays the first one). */
export async function putUser(sql: Pool, user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): Promise<void> {
  await sql.begin(async (tx) => {
    const admins = await lockDefaultAdmins(tx);
    const role = defaultRoleOf(user, roles);
    await execute(
      tx,
      `INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role`,
      [user.username, user.password_hash, role, now],
    );
    if (roles) {
      await execute(tx, "DELETE FROM team_roles WHERE username = $1", [user.username]);
      for (const r of roles) await bind(tx, user.username, r.team, r.role);
    } else await bind(tx, user.username, DEFAULT_TEAM, user.role);
    if (admins.includes(user.username) && admins.length <= 1 && (await defaultRole(tx, user.username)) !== "admin")
      throw new ConflictError(`cannot replace the roles of "${user.username}": it is the last Admin of team "${DEFAULT_TEAM}"`);
  });
}

/** Inserts the user unless its name is taken (a concurrent insert of the same name waits, then does nothing). */
export async function addUser(sql: Pool, user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): Promise<boolean> {
  return (await sql.begin(async (tx) => {
    const inserted = await execute(
      tx,
      "INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING",
      [user.username, user.password_hash, defaultRoleOf(user, roles), now],
    );
    if (inserted === 0) return false;
    for (const r of newUserRoles(user, roles)) await bind(tx, user.username, r.team, r.role);
    return true;
  })) as boolean;
}

export async function listUsers(db: Db): Promise<UserRecord[]> {
  return (await query<UserRow>(db, "SELECT username, password_hash, role, created_at FROM users ORDER BY username")).map(toUser);
}

/**
 * Applies the change unless it would leave `default` without an admin. The admins' bindings are locked first,
 * so two concurrent demotions of the last two admins cannot both pass the count (the second re-reads after
 * the first commits).
 */
export async function changeUser(sql: Pool, username: string, change: UserChange): Promise<UserChangeResult> {
  return (await sql.begin(async (tx) => {
    const admins = await lockDefaultAdmins(tx);
    const before = await getUser(tx, username);
    if (!before) return "missing";
    const losesAdmin = admins.includes(username) && (change.delete || (change.role !== undefined && change.role !== "admin"));
    if (losesAdmin && admins.length <= 1) return "last_admin";
    if (change.delete) {
      await execute(tx, "DELETE FROM users WHERE username = $1", [username]);
      return before;
    }
    const after = { ...before, role: change.role ?? before.role, password_hash: change.password_hash ?? before.password_hash };
    await execute(tx, "UPDATE users SET role = $1, password_hash = $2 WHERE username = $3", [after.role, after.password_hash, username]);
    if (change.role !== undefined) await bind(tx, username, DEFAULT_TEAM, change.role);
    return after;
  })) as UserChangeResult;
}

/** The user's roles as one JSON text (the driver decodes one field, not two per role), no row for no user. */
const USER_ACCESS_SQL = `SELECT (SELECT coalesce(json_agg(json_build_object('team', team, 'role', role) ORDER BY team), '[]')
  FROM team_roles r WHERE r.username = u.username)::text AS roles FROM users u WHERE u.username = $1`;

export async function getUserAccess(db: Db, username: string): Promise<TeamRole[] | null> {
  const [row] = await query<{ roles: string }>(db, USER_ACCESS_SQL, [username]);
  return row ? (JSON.parse(row.roles) as TeamRole[]) : null;
}

export async function getUserRoles(db: Db, username: string): Promise<TeamRole[]> {
  return query<TeamRole>(db, "SELECT team, role FROM team_roles WHERE username = $1 ORDER BY team", [username]);
}

export async function setUserRole(sql: Pool, username: string, team: string, role: Role | null): Promise<SetUserRoleResult> {
  return (await sql.begin(async (tx): Promise<SetUserRoleResult> => {
    const admins = await lockDefaultAdmins(tx);
    if (!(await query(tx, "SELECT 1 FROM users WHERE username = $1", [username])).length) return "missing_user";
    if (!(await query(tx, "SELECT 1 FROM teams WHERE name = $1", [team])).length) return "missing_team";
    if (team === DEFAULT_TEAM && role !== "admin" && admins.includes(username) && admins.length <= 1) return "last_admin";
    if (role === null) await execute(tx, "DELETE FROM team_roles WHERE username = $1 AND team = $2", [username, team]);
    else await bind(tx, username, team, role);
    if (team === DEFAULT_TEAM) await execute(tx, "UPDATE users SET role = $1 WHERE username = $2", [role ?? "viewer", username]);
    return getUserRoles(tx, username);
  })) as SetUserRoleResult;
}

async function bind(db: Db, username: string, team: string, role: Role): Promise<void> {
  await execute(
    db,
    "INSERT INTO team_roles (username, team, role) VALUES ($1, $2, $3) ON CONFLICT (username, team) DO UPDATE SET role = excluded.role",
    [username, team, role],
  );
}

async function defaultRole(db: Db, username: string): Promise<Role | null> {
  const [row] = await query<{ role: Role }>(db, "SELECT role FROM team_roles WHERE username = $1 AND team = $2", [username, DEFAULT_TEAM]);
  return row?.role ?? null;
}

/** The Admins of `default`, their bindings locked until the transaction ends. */
async function lockDefaultAdmins(tx: Db): Promise<string[]> {
  const rows = await query<{ username: string }>(tx, "SELECT username FROM team_roles WHERE team = $1 AND role = 'admin' FOR UPDATE", [
    DEFAULT_TEAM,
  ]);
  return rows.map((r) => r.username);
}
