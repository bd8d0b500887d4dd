/** UserStore: API users, for login, the users API, `leoflow users` and the admin account made at first start. */
import type { UserRecord } from "../../domain";

/** A change to one user: a new role and/or password hash, or its deletion. */
export interface UserChange {
  role?: UserRecord["role"];
  password_hash?: string;
  delete?: boolean;
}

/**
 * The user as it is after the change (as it was, for a delete); "missing" when there is no such user;
 * "last_admin" when the change would leave no admin (nothing was written).
 */
export type UserChangeResult = UserRecord | "missing" | "last_admin";

export interface UserStore {
  getUser(username: string): Promise<UserRecord | null>;
  /** Every user, by username. */
  listUsers(): Promise<UserRecord[]>;
  /** Inserts or replaces the user. */
  putUser(user: Omit<UserRecord, "created_at">, now: Date): Promise<void>;
  /** Changes or deletes a user, refusing atomically to remove or demote the last admin. */
  changeUser(username: string, change: UserChange): Promise<UserChangeResult>;
}
