/**
 * UserStore: API users, for login, the users API, `leoflow users` and the admin account made at first start.
 * A user holds a role per team (`team_roles`); requireUser reads the role in the request's team. The users
 * row's `role` is the user's role in team `default` (what a single-team install has always called "the
 * role"): every write here keeps it equal to the `default` binding, and a user with no role in `default`
 * has `viewer` there, which grants nothing because authorization reads only team roles. An Admin in
 * `default` is an install admin (teams, users, any team), so `default` is never left without one.
 */
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

/** A user's role in one team. */
export interface TeamRole {
  team: string;
  role: UserRecord["role"];
}

/**
 * The user's roles after setUserRole; "missing_user" / "missing_team" when either does not exist;
 * "last_admin" when the change would leave team `default` without an Admin (nothing was written).
 */
export type SetUserRoleResult = TeamRole[] | "missing_user" | "missing_team" | "last_admin";

export interface UserStore {
  getUser(username: string): Promise<UserRecord | null>;
  /** Every user, by username. */
  listUsers(): Promise<UserRecord[]>;
  /**
   * Inserts or replaces the user. Without `roles`, `user.role` becomes its role in `default` (other teams
   * untouched); with `roles` (a new user), its roles become exactly those, in one transaction — a user
   * created for one team never holds a role elsewhere, not even for a moment.
   */
  putUser(user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): Promise<void>;
  /**
   * Inserts the user, with its roles as putUser gives a new user, unless a user of that name exists; answers
   * whether it did (false: nothing changed). Two requests creating the same user at once: exactly one does.
   */
  addUser(user: Omit<UserRecord, "created_at">, now: Date, roles?: TeamRole[]): Promise<boolean>;
  /**
   * Changes or deletes a user, refusing atomically to leave team `default` without an Admin. A `role`
   * change is the role in `default`.
   */
  changeUser(username: string, change: UserChange): Promise<UserChangeResult>;
  /** The user's roles, by team name; [] for an unknown user. */
  getUserRoles(username: string): Promise<TeamRole[]>;
  /**
   * What every API request's authentication reads: the user's roles by team name ([] for a user without any),
   * or null when there is no such user. One statement on Postgres, where getUser and getUserRoles are two.
   */
  getUserAccess(username: string): Promise<TeamRole[] | null>;
  /** Gives the user `role` in `team`, or removes its role there (null); atomic with the last-admin check. */
  setUserRole(username: string, team: string, role: UserRecord["role"] | null): Promise<SetUserRoleResult>;
}
