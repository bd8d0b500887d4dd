/**
 * What putUser and addUser write for a user's roles, on both stores: `users.role` holds its role in team
 * `default`, and a new user's team roles are the `roles` given, else `user.role` in `default` alone.
 */
import { DEFAULT_TEAM, type UserRecord } from "../domain";
import type { TeamRole } from "./ports/users";

/** users.role: the role in `default` the roles give (viewer when they give none), else the user's own. */
export const defaultRoleOf = (user: Pick<UserRecord, "role">, roles?: readonly TeamRole[]): UserRecord["role"] =>
  roles ? (roles.find((r) => r.team === DEFAULT_TEAM)?.role ?? "viewer") : user.role;

/** The team roles a new user gets: exactly `roles` when given, else `user.role` in `default`. */
export const newUserRoles = (user: Pick<UserRecord, "role">, roles?: readonly TeamRole[]): readonly TeamRole[] =>
  roles ?? [{ team: DEFAULT_TEAM, role: user.role }];
