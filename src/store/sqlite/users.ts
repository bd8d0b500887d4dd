/** Users of the API and UI, and their roles per team (see ports/users.ts for what users.role means). */
import type { Database } from "bun:sqlite";
import { ConflictError, DEFAULT_TEAM, type UserRecord } from "../../domain";
import type { SetUserRoleResult, TeamRole, UserChange, UserChangeResult } from "../ports/users";
import { toUser, type UserRow } from "./rows";
import { defaultRoleOf, newUserRoles } from "../user-roles";

type Role = UserRecord["role"];

export function getUser(db: Database, username: string): UserRecord | null {
  const row = db.query("SELECT username, password_hash, role, created_at FROM users WHERE username = ?").get(username) as UserRow | null;
  return row ? toUser(row) : null;
}

/** Inserts, or replaces password and role of an existing user (its created_at stays the first one). */
export function putUser(db: Database, user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): void {
  db.transaction(() => {
    const wasAdmin = defaultRole(db, user.username) === "admin";
    const role = defaultRoleOf(user, roles);
    db.query(
      `INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role`,
    ).run(user.username, user.password_hash, role, now.getTime());
    if (roles) {
      db.query("DELETE FROM team_roles WHERE username = ?").run(user.username);
      for (const r of roles) bind(db, user.username, r.team, r.role);
    } else bind(db, user.username, DEFAULT_TEAM, user.role);
    if (wasAdmin && defaultAdmins(db) === 0)
      throw new ConflictError(`cannot replace the roles of "${user.username}": it is the last Admin of team "${DEFAULT_TEAM}"`);
  }).immediate();
}

/** Inserts the user unless its name is taken; whether it did. */
export function addUser(db: Database, user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): boolean {
  return db
    .transaction(() => {
      const inserted = db
        .query("INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (username) DO NOTHING")
        .run(user.username, user.password_hash, defaultRoleOf(user, roles), now.getTime()).changes;
      if (inserted === 0) return false;
      for (const r of newUserRoles(user, roles)) bind(db, user.username, r.team, r.role);
      return true;
    })
    .immediate();
}

export function listUsers(db: Database): UserRecord[] {
  const rows = db.query("SELECT username, password_hash, role, created_at FROM users ORDER BY username").all() as UserRow[];
  return rows.map(toUser);
}

/** Applies the change unless it would leave `default` without an admin; the check and the write are one transaction. */
export function changeUser(db: Database, username: string, change: UserChange): UserChangeResult {
  return db
    .transaction((): UserChangeResult => {
      const before = getUser(db, username);
      if (!before) return "missing";
      const losesAdmin = defaultRole(db, username) === "admin" && (change.delete || (change.role !== undefined && change.role !== "admin"));
      if (losesAdmin && defaultAdmins(db) <= 1) return "last_admin";
      if (change.delete) {
        db.query("DELETE FROM users WHERE username = ?").run(username);
        return before;
      }
      const after = { ...before, role: change.role ?? before.role, password_hash: change.password_hash ?? before.password_hash };
      db.query("UPDATE users SET role = ?, password_hash = ? WHERE username = ?").run(after.role, after.password_hash, username);
      if (change.role !== undefined) bind(db, username, DEFAULT_TEAM, change.role);
      return after;
    })
    .immediate();
}

export function getUserRoles(db: Database, username: string): TeamRole[] {
  return db.query("SELECT team, role FROM team_roles WHERE username = ? ORDER BY team").all(username) as TeamRole[];
}

/**
 * The user's roles, or null for no such user: two reads, microseconds each here, as the API made them before. A
 * user deleted between them (by the CLI, another process) reads as one without roles, which the API refuses too.
 */
export function getUserAccess(db: Database, username: string): TeamRole[] | null {
  return db.query("SELECT 1 FROM users WHERE username = ?").get(username) ? getUserRoles(db, username) : null;
}

export function setUserRole(db: Database, username: string, team: string, role: Role | null): SetUserRoleResult {
  return db
    .transaction((): SetUserRoleResult => {
      if (!db.query("SELECT 1 FROM users WHERE username = ?").get(username)) return "missing_user";
      if (!db.query("SELECT 1 FROM teams WHERE name = ?").get(team)) return "missing_team";
      if (team === DEFAULT_TEAM && role !== "admin" && defaultRole(db, username) === "admin" && defaultAdmins(db) <= 1) return "last_admin";
      if (role === null) db.query("DELETE FROM team_roles WHERE username = ? AND team = ?").run(username, team);
      else bind(db, username, team, role);
      if (team === DEFAULT_TEAM) db.query("UPDATE users SET role = ? WHERE username = ?").run(role ?? "viewer", username);
      return getUserRoles(db, username);
    })
    .immediate();
}

function bind(db: Database, username: string, team: string, role: Role): void {
  db.query(
    "INSERT INTO team_roles (username, team, role) VALUES (?, ?, ?) ON CONFLICT (username, team) DO UPDATE SET role = excluded.role",
  ).run(username, team, role);
}

function defaultRole(db: Database, username: string): Role | null {
  const row = db.query("SELECT role FROM team_roles WHERE username = ? AND team = ?").get(username, DEFAULT_TEAM) as { role: Role } | null;
  return row?.role ?? null;
}

function defaultAdmins(db: Database): number {
  return (db.query("SELECT count(*) AS n FROM team_roles WHERE team = ? AND role = 'admin'").get(DEFAULT_TEAM) as { n: number }).n;
}
