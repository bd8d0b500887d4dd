/** Users of the API and UI. */
import type { Database } from "bun:sqlite";
import type { UserRecord } from "../../domain";
import type { UserChange, UserChangeResult } from "../ports/users";
import { toUser, type UserRow } from "./rows";

export function getUser(db: Database, username: string): UserRecord | null {
  const row = db.query("SELECT username, password_hash, role, created_at FROM users WHERE username = ?").get(username) as UserRow | null;
  return row ? toUser(row) : null;
}

/** Inserts, or replaces password and role of an existing user (its created_at stays the first one). */
export function putUser(db: Database, user: Omit<UserRecord, "created_at">, now: Date): void {
  db.query(
    `INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role`,
  ).run(user.username, user.password_hash, user.role, now.getTime());
}

export function listUsers(db: Database): UserRecord[] {
  const rows = db.query("SELECT username, password_hash, role, created_at FROM users ORDER BY username").all() as UserRow[];
  return rows.map(toUser);
}

/** Applies the change unless it would leave no admin; the check and the write are one transaction. */
export function changeUser(db: Database, username: string, change: UserChange): UserChangeResult {
  return db
    .transaction((): UserChangeResult => {
      const before = getUser(db, username);
      if (!before) return "missing";
      const losesAdmin = before.role === "admin" && (change.delete || (change.role !== undefined && change.role !== "admin"));
      if (losesAdmin && (db.query("SELECT count(*) AS n FROM users WHERE role = 'admin'").get() as { n: number }).n <= 1)
        return "last_admin";
      if (change.delete) {
        db.query("DELETE FROM users WHERE username = ?").run(username);
        return before;
      }
      const after = { ...before, role: change.role ?? before.role, password_hash: change.password_hash ?? before.password_hash };
      db.query("UPDATE users SET role = ?, password_hash = ? WHERE username = ?").run(after.role, after.password_hash, username);
      return after;
    })
    .immediate();
}
