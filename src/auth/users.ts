/**
 * Managing users, shared by the users API and `leoflow users`: the checks (name, password, role), hashing,
 * and the store's answer turned into an error that says what to do. Callers map UserError.kind to a status
 * or an exit message.
 *
 * @example
 * const u = await createUser(store, { username: "ada", password: "correct horse", role: "Op" }, new Date());
 */
import { LeoflowError, type UserRecord } from "../domain";
import type { UserChange, UserStore } from "../store";
import { hashPassword } from "./passwords";
import { ROLE_CHOICES, ROLE_NAMES, parseRole, type Role } from "./roles";

export type UserErrorKind = "invalid" | "not_found" | "exists" | "last_admin";

export class UserError extends LeoflowError {
  constructor(
    readonly kind: UserErrorKind,
    message: string,
    /** The input field at fault, for "invalid". */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** What the API and the CLI show of a user: never the hash. */
export interface UserView {
  username: string;
  role: string;
  created_at: string;
}

export const toUserView = (u: UserRecord): UserView => ({
  username: u.username,
  role: ROLE_NAMES[u.role],
  created_at: u.created_at.toISOString(),
});

export const USERNAME_RULE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 8;

export function checkUsername(username: string): string {
  if (!USERNAME_RULE.test(username))
    throw new UserError(
      "invalid",
      `username "${username}" is not valid: use 1 to 64 letters, digits, _ . @ or -, starting with a letter or digit`,
      "username",
    );
  return username;
}

export function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new UserError("invalid", `password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`, "password");
  return password;
}

export function checkRole(name: string): Role {
  const role = parseRole(name);
  if (!role) throw new UserError("invalid", `role "${name}" is not one of ${ROLE_CHOICES}`, "role");
  return role;
}

export async function createUser(
  store: UserStore,
  input: { username: string; password: string; role: string },
  now: Date,
): Promise<UserRecord> {
  const username = checkUsername(input.username);
  const role = checkRole(input.role);
  const password_hash = await hashPassword(checkPassword(input.password));
  if (await store.getUser(username))
    throw new UserError("exists", `user "${username}" already exists; change it with PATCH (or \`leoflow users reset-password\`)`);
  await store.putUser({ username, password_hash, role }, now);
  return (await store.getUser(username))!;
}

/** Changes role and/or password; refuses to demote the last admin. */
export async function updateUser(store: UserStore, username: string, input: { role?: string; password?: string }): Promise<UserRecord> {
  const change: UserChange = {};
  if (input.role !== undefined) change.role = checkRole(input.role);
  if (input.password !== undefined) change.password_hash = await hashPassword(checkPassword(input.password));
  return applyChange(store, username, change, `demote "${username}"`);
}

/** Deletes the user; refuses to delete the last admin. */
export async function deleteUser(store: UserStore, username: string): Promise<UserRecord> {
  return applyChange(store, username, { delete: true }, `delete "${username}"`);
}

async function applyChange(store: UserStore, username: string, change: UserChange, what: string): Promise<UserRecord> {
  const r = await store.changeUser(username, change);
  if (r === "missing") throw new UserError("not_found", `user "${username}" does not exist; list users to see who does`);
  if (r === "last_admin")
    throw new UserError(
      "last_admin",
      `cannot ${what}: it is the last Admin, and without one nobody can manage users; make another Admin first`,
    );
  return r;
}
