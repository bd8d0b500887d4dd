/** Users of the API and UI. */
import type { UserRecord } from "../../domain";
import type { UserChange, UserChangeResult } from "../ports/users";
import { execute, query, type Db, type Pool } from "./client";
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

export async function listUsers(db: Db): Promise<UserRecord[]> {
  return (await query<UserRow>(db, "SELECT username, password_hash, role, created_at FROM users ORDER BY username")).map(toUser);
}

/**
 * Applies the change unless it would leave no admin. The admins' rows are locked first, so two concurrent
 * demotions of the last two admins cannot both pass the count (the second re-reads after the first commits).
 */
export async function changeUser(sql: Pool, username: string, change: UserChange): Promise<UserChangeResult> {
  return (await sql.begin(async (tx) => {
    const admins = await query<{ username: string }>(tx, "SELECT username FROM users WHERE role = 'admin' FOR UPDATE");
    const before = await getUser(tx, username);
    if (!before) return "missing";
    const losesAdmin = before.role === "admin" && (change.delete || (change.role !== undefined && change.role !== "admin"));
    if (losesAdmin && admins.length <= 1) return "last_admin";
    if (change.delete) {
      await execute(tx, "DELETE FROM users WHERE username = $1", [username]);
      return before;
    }
    const after = { ...before, role: change.role ?? before.role, password_hash: change.password_hash ?? before.password_hash };
    await execute(tx, "UPDATE users SET role = $1, password_hash = $2 WHERE username = $3", [after.role, after.password_hash, username]);
    return after;
  })) as UserChangeResult;
}
