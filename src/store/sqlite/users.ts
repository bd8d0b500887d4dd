/** Users of the API and UI. */
import type { Database } from "bun:sqlite";
import type { UserRecord } from "../store";
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
