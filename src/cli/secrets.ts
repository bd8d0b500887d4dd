/**
 * `leoflow secrets rotate`: re-encrypts every stored secret of every team (the key is one per install) under a
 * new key, in one transaction, and says how many rows changed. Idempotent (rows already under the new key are
 * skipped); a wrong old key, or a row under a third key, is refused before anything is written.
 *
 * The database and data dir are serve's (--db, --data-dir, --config, LEOFLOW_* and the config file; open-store.ts).
 * Keys: the old one from --old-key, else LEOFLOW_SECRETS_KEY or the config file's secrets_key, else Lite's
 * `<data-dir>/secrets-key`; the new
 * one from --new-key, else LEOFLOW_SECRETS_NEW_KEY. When the old key came from the data-dir file, the new key
 * (generated when none is given) replaces it there once the database has committed, so Lite starts with it.
 *
 * @example LEOFLOW_SECRETS_KEY=$OLD LEOFLOW_SECRETS_NEW_KEY=$NEW leoflow secrets rotate --db postgres://…
 */
import { existsSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SECRETS_KEY_FILE, readKeyFile } from "../auth";
import { SecretUnreadableError, SecretsCipher, generateSecretsKey } from "../store";
import { ConflictError, LeoflowError, SECRETS_KEY_HINT, parseSecretsKey, errorMessage } from "../domain";
import { serveStore } from "./open-store";

export const SECRETS_USAGE = "secrets rotate [--db URL] [--old-key KEY] [--new-key KEY] [--data-dir DIR] [--config PATH]";

export interface CliIo {
  out(text: string): void;
  env: Record<string, string | undefined>;
}

/** Runs `leoflow secrets …`; returns the exit code (0 ok, 1 refused or failed, 2 bad usage). */
export async function secretsCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "rotate") throw new UsageError(SECRETS_USAGE);
  const options = {
    db: { type: "string" },
    "old-key": { type: "string" },
    "new-key": { type: "string" },
    "data-dir": { type: "string" },
    config: { type: "string" },
  } as const;
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; strict: true }>>["values"];
  try {
    ({ values } = parseArgs({ args: rest, options, strict: true }));
  } catch (e) {
    throw new UsageError(`${errorMessage(e)}; ${SECRETS_USAGE}`);
  }
  // As serve finds them: after `install --systemd` the database, data dir and key are the config file's.
  const { url, dataDir, secretsKey } = await serveStore(values, io.env);
  const { openStore, rotateSecrets, sqlitePathOf } = await import("../store");
  const file = sqlitePathOf(url);
  if (file !== null && !existsSync(file))
    throw new LeoflowError(`there is no database at ${file}; pass --db (or LEOFLOW_DB), --data-dir or --config as the server has them`);
  const keyFile = join(dataDir, SECRETS_KEY_FILE);
  const { old, next, newText, fromFile } = rotationKeys(
    values["old-key"] ?? secretsKey,
    values["new-key"] ?? io.env.LEOFLOW_SECRETS_NEW_KEY,
    keyFile,
  );

  // The new key is on disk (beside the old one) before the database changes, so it is never only in memory.
  const pending = `${keyFile}.new`;
  if (fromFile && existsSync(pending))
    throw new LeoflowError(
      `${pending} is left from a rotation that did not finish; if the secrets are now under it, move it to ${keyFile}, otherwise delete it, then run again`,
    );
  if (fromFile) writeFileSync(pending, newText.trim() + "\n", { mode: 0o600, flag: "wx" });
  const store = openStore(url);
  try {
    const r = await rotateSecrets(store, { old, next });
    const changed = r.variables + r.connections + r.webhooks;
    io.out(
      `re-encrypted ${changed} row(s) under key id ${next.keyId}: ${r.variables} variable(s), ${r.connections} connection(s), ` +
        `${r.webhooks} webhook secret(s)` +
        ` (${r.sealed_plaintext} value(s) were still plain text; ${r.already} already under the new key, skipped)\n`,
    );
  } catch (e) {
    // A refusal or a rolled-back conflict changed nothing: the new key is not needed. Anything else (a lost
    // connection at commit) leaves it in place: the next run stops and asks which key the rows are under.
    if (fromFile && (e instanceof SecretUnreadableError || e instanceof ConflictError)) unlinkSync(pending);
    throw e;
  } finally {
    await store.close();
  }
  if (fromFile) {
    renameSync(pending, keyFile);
    io.out(`wrote the new key to ${keyFile}\n`);
  } else io.out("start every server with the new key (--secrets-key, LEOFLOW_SECRETS_KEY or the config file's secrets_key)\n");
  return 0;
}

/** The old key as given, else the data-dir file's (`fromFile`: then a missing new key is generated). */
function rotationKeys(oldText: string | undefined, newText: string | undefined, keyFile: string) {
  const old = oldText !== undefined ? new SecretsCipher(parseSecretsKey(oldText, "the old key")) : readKeyFile(keyFile);
  const fromFile = oldText === undefined && old !== null;
  if (newText === undefined && !fromFile)
    throw new UsageError(`secrets rotate needs the new key: --new-key or LEOFLOW_SECRETS_NEW_KEY (${SECRETS_KEY_HINT})`);
  newText ??= generateSecretsKey();
  return { old, next: new SecretsCipher(parseSecretsKey(newText, "the new key")), newText, fromFile };
}

/** Bad usage (exit 2). */
export class UsageError extends LeoflowError {}
