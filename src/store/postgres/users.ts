/** Users of the API and UI. */
import type { UserRecord } from "../store";
import { execute, query, type Db } from "./client";
import { toUser, type UserRow } from "./rows";

export async function getUser(db: Db, username: string): Promise<UserRecord | null> {
  const [row] = await query<UserRow>(db, "SELECT username, password_hash, role, created_at FROM users WHERE username = $1", [username]);
  return row ? toUser(row) : null;
}

/** Inserts, or replaces password and role of an existing user (its created_at stays the first one). */
export async function putUser(db: Db, user: Omit<UserRecord, "created_at">, now: Date): Promise<void> {
  await execute(
    db,
    `INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role`,
    [user.username, user.password_hash, user.role, now],
  );
}
