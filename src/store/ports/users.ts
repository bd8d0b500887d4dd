/** UserStore: API users, for login and the admin account made at first start. */
import type { UserRecord } from "../../domain";

export interface UserStore {
  getUser(username: string): Promise<UserRecord | null>;
  /** Inserts or replaces the user. */
  putUser(user: Omit<UserRecord, "created_at">, now: Date): Promise<void>;
}
