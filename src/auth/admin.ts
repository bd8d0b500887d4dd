/**
 * The first user: `admin` is created at start if there is no Admin at all. With no password given one is generated and
 * returned once so the caller can print it; a given password (LEOFLOW_ADMIN_PASSWORD) always wins.
 *
 * @example
 * const r = await ensureAdminUser(store, { password: process.env.LEOFLOW_ADMIN_PASSWORD, now: new Date() });
 * if (r.generatedPassword) console.log(`admin password: ${r.generatedPassword}`);
 */
import { ValidationError } from "../domain";
import type { UserStore } from "../store";
import { generatePassword, hashPassword, verifyPassword } from "./passwords";

export const ADMIN_USERNAME = "admin";

export interface EnsureAdminResult {
  /** True when the admin user did not exist and was created now. */
  created: boolean;
  /** True when an existing admin's password was replaced by the given one. */
  updated: boolean;
  /** Set only when a password was generated; show it once, it is stored only as a hash. */
  generatedPassword?: string;
}

export async function ensureAdminUser(store: UserStore, opts: { password?: string; now: Date }): Promise<EnsureAdminResult> {
  if (opts.password !== undefined && opts.password.length === 0)
    throw new ValidationError(
      "the admin password is empty; set LEOFLOW_ADMIN_PASSWORD to a non-empty value or unset it to have one generated",
      [{ path: "admin_password", message: "must not be empty" }],
    );
  const existing = await store.getUser(ADMIN_USERNAME);
  if (existing && opts.password === undefined) return { created: false, updated: false };
  // `admin` was deleted on purpose (`leoflow users delete admin`) once another Admin existed: do not bring it back.
  if (!existing && (await store.listUsers()).some((u) => u.role === "admin")) return { created: false, updated: false };
  // A restart with the same LEOFLOW_ADMIN_PASSWORD changes nothing: no new hash, no write.
  if (existing && (await verifyPassword(opts.password!, existing.password_hash))) return { created: false, updated: false };
  const password = opts.password ?? generatePassword();
  const admin = { username: ADMIN_USERNAME, password_hash: await hashPassword(password), role: "admin" } as const;
  if (existing) {
    await store.putUser(admin, opts.now);
    return { created: false, updated: true };
  }
  // Pro replicas first started together against a new database: one creates the admin, and only its password is
  // printed (the others' would not log in). A given password is then checked against the one stored, as on a restart.
  if (!(await store.addUser(admin, opts.now)))
    return opts.password === undefined ? { created: false, updated: false } : ensureAdminUser(store, opts);
  return opts.password === undefined ? { created: true, updated: false, generatedPassword: password } : { created: true, updated: false };
}

/** Where start-up news goes: log lines, and stdout for the one thing that must not land in structured logs. */
export interface AdminAnnouncer {
  info(message: string): void;
  print(text: string): void;
}

/** ensureAdminUser at start, then says what it did; a generated password is printed once, on stdout. */
export async function announceAdmin(store: UserStore, password: string | undefined, out: AdminAnnouncer, now: Date): Promise<void> {
  const { created, updated, generatedPassword } = await ensureAdminUser(store, { password, now });
  if (generatedPassword)
    out.print(
      `\n  Leoflow admin user created.\n  username: admin\n  password: ${generatedPassword}\n  (shown once; set LEOFLOW_ADMIN_PASSWORD to choose it)\n\n`,
    );
  // The password may come from the environment or the config file: name both, not one.
  else if (created) out.info(`admin user created with the given password (${PASSWORD_SOURCES})`);
  else if (updated) out.info(`admin password changed to the given one (${PASSWORD_SOURCES})`);
}

const PASSWORD_SOURCES = "LEOFLOW_ADMIN_PASSWORD or the config file's admin_password";
