/**
 * `leoflow users create|list|delete|reset-password`: manage API users directly in the store (no server
 * needed; the same checks as the users API, src/auth/users.ts). A password comes from --password, from
 * stdin with --password-stdin, or is generated and printed once. The last Admin cannot be deleted.
 *
 * @example leoflow users create ada --role Op --password-stdin --db postgres://… < ada.pass
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { ROLE_CHOICES, UserError, createUser, deleteUser, generatePassword, toUserView, updateUser } from "../auth";
import { LeoflowError, errorMessage } from "../domain";
import type { CliIo } from "./secrets";
import { UsageError } from "./secrets";

export const USERS_USAGE = `users create USERNAME --role ROLE [--password P | --password-stdin]
       users list [--json]
       users delete USERNAME
       users reset-password USERNAME [--password P | --password-stdin]
       (each takes --db URL or --data-dir DIR, like serve; ROLE is one of ${ROLE_CHOICES})`;

export interface UsersIo extends CliIo {
  /** All of stdin, for --password-stdin. */
  readStdin(): Promise<string>;
}

const OPTIONS = {
  db: { type: "string" },
  "data-dir": { type: "string" },
  role: { type: "string" },
  password: { type: "string" },
  "password-stdin": { type: "boolean" },
  json: { type: "boolean" },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: true }>>["values"];

/** Runs `leoflow users …`; returns the exit code (0 ok, 1 refused or failed; bad usage throws UsageError). */
export async function usersCommand(args: string[], io: UsersIo): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || !["create", "list", "delete", "reset-password"].includes(sub))
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
  if (values.role !== undefined && sub !== "create")
    throw new UsageError(`users ${sub} takes no --role; change a role with PATCH /api/v2/leoflow/users/USERNAME`);
  if (sub === "create" && values.role === undefined) throw new UsageError(`users create needs --role (${ROLE_CHOICES})`);
  if (values.password !== undefined && values["password-stdin"]) throw new UsageError("give --password or --password-stdin, not both");

  const store = await openExistingStore(values, io);
  try {
    return await run(sub, positionals[0] ?? "", values, io, store);
  } catch (e) {
    if (e instanceof UserError) throw new LeoflowError(e.message);
    if (/no such table: users|relation "users" does not exist/.test(errorMessage(e)))
      throw new LeoflowError("the database has no Leoflow tables yet; run `leoflow db migrate --db URL` (or start the server once) first");
    throw e;
  } finally {
    await store.close();
  }
}

type OpenedStore = Awaited<ReturnType<typeof openExistingStore>>;

async function run(sub: string, username: string, values: Values, io: UsersIo, store: OpenedStore): Promise<number> {
  const now = new Date();
  switch (sub) {
    case "list": {
      const users = (await store.listUsers()).map(toUserView);
      if (values.json) io.out(JSON.stringify(users, null, 2) + "\n");
      else io.out(table(users));
      return 0;
    }
    case "delete": {
      const u = await deleteUser(store, username);
      io.out(`deleted user ${u.username} (${toUserView(u).role}); tokens already issued to it are refused from now on\n`);
      return 0;
    }
    case "create": {
      const { password, generated } = await passwordFrom(values, io);
      const u = await createUser(store, { username, password, role: values.role! }, now);
      io.out(`created user ${u.username} with role ${toUserView(u).role}\n`);
      if (generated) io.out(`password: ${password}\n(shown once; it is stored only as a hash)\n`);
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

async function openExistingStore(values: Values, io: CliIo) {
  const dataDir = values["data-dir"] ?? io.env.LEOFLOW_DATA_DIR ?? "./.leoflow";
  const url = values.db ?? io.env.LEOFLOW_DB ?? `sqlite:${dataDir}/leoflow.db`;
  const { openStore, sqlitePathOf } = await import("../store");
  const file = sqlitePathOf(url);
  if (file !== null && file !== ":memory:" && !existsSync(file))
    throw new LeoflowError(
      `there is no database at ${file}; pass --db (or LEOFLOW_DB) or --data-dir as the server has it, or create it with \`leoflow db migrate --db sqlite:${file}\``,
    );
  return openStore(url);
}

function table(users: { username: string; role: string; created_at: string }[]): string {
  if (users.length === 0) return "no users\n";
  const rows = [["USERNAME", "ROLE", "CREATED"], ...users.map((u) => [u.username, u.role, u.created_at])];
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]}`).join("\n") + "\n";
}
