/**
 * `leoflow users create|list|delete|reset-password|grant|revoke`: manage API users and their roles per team
 * directly in the store (no server needed; the same checks as the users API, src/auth/users.ts). A password
 * comes from --password, from stdin with --password-stdin, or is generated and printed once. Team `default`
 * always keeps an Admin (its last one cannot be deleted, demoted or revoked).
 *
 * @example leoflow users create ada --role Op --password-stdin --db postgres://… < ada.pass
 * @example leoflow users grant ada --team data-eng --role Viewer
 */
import { parseArgs } from "node:util";
import { ROLE_CHOICES, UserError, createUser, deleteUser, generatePassword, setRole, toUserView, updateUser, type UserView } from "../auth";
import { DEFAULT_TEAM, LeoflowError, errorMessage } from "../domain";
import { missingTables, openExistingStore, type OpenedStore } from "./open-store";
import type { CliIo } from "./secrets";
import { UsageError } from "./secrets";

export const USERS_USAGE = `users create USERNAME --role ROLE [--team TEAM] [--password P | --password-stdin]
       users list [--json]
       users delete USERNAME
       users reset-password USERNAME [--password P | --password-stdin]
       users grant USERNAME --team TEAM --role ROLE
       users revoke USERNAME --team TEAM
       (each takes --db URL, --data-dir DIR or --config PATH, like serve; ROLE is one of ${ROLE_CHOICES}; without --team,
       create gives the role in team "${DEFAULT_TEAM}", with it the user has a role in that team only)`;

const COMMANDS = ["create", "list", "delete", "reset-password", "grant", "revoke"];

export interface UsersIo extends CliIo {
  /** All of stdin, for --password-stdin. */
  readStdin(): Promise<string>;
}

const OPTIONS = {
  db: { type: "string" },
  "data-dir": { type: "string" },
  config: { type: "string" },
  role: { type: "string" },
  team: { type: "string" },
  password: { type: "string" },
  "password-stdin": { type: "boolean" },
  json: { type: "boolean" },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: true }>>["values"];

/** Runs `leoflow users …`; returns the exit code (0 ok, 1 refused or failed; bad usage throws UsageError). */
export async function usersCommand(args: string[], io: UsersIo): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || !COMMANDS.includes(sub))
    throw new UsageError(`${sub ? `unknown users command "${sub}"` : "users needs a command"}; usage:\n  leoflow ${USERS_USAGE}`);
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: true }));
  } catch (e) {
    throw new UsageError(`users ${sub}: ${errorMessage(e)}; usage:\n  leoflow ${USERS_USAGE}`);
  }
  const wantsName = sub !== "list";
  if (positionals.length !== (wantsName ? 1 : 0))
    throw new UsageError(
      wantsName ? `users ${sub} needs exactly one USERNAME (got ${positionals.length})` : "users list takes no USERNAME",
    );
  if (values.role !== undefined && sub !== "create" && sub !== "grant")
    throw new UsageError(`users ${sub} takes no --role; change a role with \`leoflow users grant USERNAME --team TEAM --role ROLE\``);
  if ((sub === "create" || sub === "grant") && values.role === undefined)
    throw new UsageError(`users ${sub} needs --role (${ROLE_CHOICES})`);
  if ((sub === "grant" || sub === "revoke") && values.team === undefined)
    throw new UsageError(`users ${sub} needs --team TEAM (\`leoflow teams list\` shows them)`);
  if (values.team !== undefined && !["create", "grant", "revoke"].includes(sub)) throw new UsageError(`users ${sub} takes no --team`);
  if (values.password !== undefined && values["password-stdin"]) throw new UsageError("give --password or --password-stdin, not both");

  const store = await openExistingStore(values, io);
  try {
    return await run(sub, positionals[0] ?? "", values, io, store);
  } catch (e) {
    if (e instanceof UserError) throw new LeoflowError(e.message);
    throw missingTables(e) ?? e;
  } finally {
    await store.close();
  }
}

async function run(sub: string, username: string, values: Values, io: UsersIo, store: OpenedStore): Promise<number> {
  const now = new Date();
  switch (sub) {
    case "list": {
      const users = await Promise.all((await store.listUsers()).map(async (u) => toUserView(u, await store.getUserRoles(u.username))));
      if (values.json) io.out(JSON.stringify(users, null, 2) + "\n");
      else io.out(table(users));
      return 0;
    }
    case "delete": {
      const roles = await store.getUserRoles(username);
      const u = await deleteUser(store, username);
      io.out(`deleted user ${u.username} (${rolesText(toUserView(u, roles))}); tokens already issued to it are refused from now on\n`);
      return 0;
    }
    case "create": {
      const { password, generated } = await passwordFrom(values, io);
      const role = values.role ?? "";
      const input = values.team === undefined ? { username, password, role } : { username, password, roles: [{ team: values.team, role }] };
      const u = await createUser(store, input, now);
      const shown = toUserView(u, await store.getUserRoles(u.username)).roles[0]?.role;
      io.out(`created user ${u.username} with role ${shown}${values.team === undefined ? "" : ` in team ${values.team}`}\n`);
      if (generated) io.out(`password: ${password}\n(shown once; it is stored only as a hash)\n`);
      return 0;
    }
    case "grant":
    case "revoke": {
      const team = values.team ?? "";
      const roles = await setRole(store, username, { team, role: sub === "grant" ? (values.role ?? "") : null });
      const user = await store.getUser(username);
      const view = user ? toUserView(user, roles) : null;
      io.out(
        `${sub === "grant" ? `gave ${username} the role ${view?.roles.find((r) => r.team === team)?.role} in team ${team}` : `removed the role of ${username} in team ${team}`}; ${username} now has ${view ? rolesText(view) : "no roles"}\n`,
      );
      return 0;
    }
    default: {
      const { password, generated } = await passwordFrom(values, io);
      await updateUser(store, username, { password });
      io.out(`reset the password of ${username}\n`);
      if (generated) io.out(`password: ${password}\n(shown once; it is stored only as a hash)\n`);
      return 0;
    }
  }
}

async function passwordFrom(values: Values, io: UsersIo): Promise<{ password: string; generated: boolean }> {
  if (values.password !== undefined) return { password: values.password, generated: false };
  if (!values["password-stdin"]) return { password: generatePassword(), generated: true };
  // One trailing newline is the shell's (`echo pass |`), not part of the password.
  const password = (await io.readStdin()).replace(/\r?\n$/, "");
  if (!password)
    throw new UsageError("--password-stdin read an empty password; pipe the password in, or drop the flag to have one generated");
  return { password, generated: false };
}

/** "Admin in default, Viewer in data-eng", or "no roles". */
function rolesText(u: UserView): string {
  return u.roles.length ? u.roles.map((r) => `${r.role} in ${r.team}`).join(", ") : "no roles";
}

function table(users: UserView[]): string {
  if (users.length === 0) return "no users\n";
  const rows = [
    ["USERNAME", "ROLES", "CREATED"],
    ...users.map((u) => [u.username, u.roles.map((r) => `${r.team}:${r.role}`).join(",") || "-", u.created_at]),
  ];
  const width = (i: number) => Math.max(...rows.map((r) => (r[i] ?? "").length));
  return `${rows.map((r) => `${(r[0] ?? "").padEnd(width(0))}  ${(r[1] ?? "").padEnd(width(1))}  ${r[2]}`).join("\n")}\n`;
}
