/**
 * How the store commands (`leoflow db`, `users`, `teams`, `secrets`) find the server's database: as serve does,
 * from --db, --data-dir and --config, the LEOFLOW_* environment and the config file (/etc/leoflow/leoflow.toml
 * by default, what `install --systemd` writes), so they open the database the server uses.
 */
import { existsSync } from "node:fs";
import { LeoflowError, errorMessage } from "../domain";
import type { CliIo } from "./secrets";

/** The flags the store commands share with serve. */
export interface StoreFlags {
  db?: string;
  "data-dir"?: string;
  config?: string;
}

/**
 * The store URL, data dir and secrets key serve would run with given these flags (serve's own resolution:
 * flag > LEOFLOW_* env > config file > default). Throws serve's ValidationError for a bad setting.
 */
export async function serveStore(
  flags: StoreFlags,
  env: Record<string, string | undefined>,
): Promise<{ url: string; dataDir: string; secretsKey: string | undefined }> {
  const [{ loadServeConfig }, { DEFAULT_CONFIG_FILE }] = await Promise.all([import("../config"), import("../config-file")]);
  const argv = (["db", "data-dir", "config"] as const).flatMap((name) => (flags[name] === undefined ? [] : [`--${name}`, flags[name]]));
  const cfg = loadServeConfig(argv, env, DEFAULT_CONFIG_FILE);
  return { url: cfg.db, dataDir: cfg.data_dir, secretsKey: cfg.secrets_key };
}

/** Opens the database serve would use (see serveStore); a SQLite file that is not there is an error, never created. */
export async function openExistingStore(values: StoreFlags, io: CliIo) {
  const { url } = await serveStore(values, io.env);
  const { openStore, sqlitePathOf } = await import("../store");
  const file = sqlitePathOf(url);
  if (file !== null && file !== ":memory:" && !existsSync(file))
    throw new LeoflowError(
      `there is no database at ${file}; pass --db (or LEOFLOW_DB), --data-dir or --config as the server has them, or create it with \`leoflow db migrate --db sqlite:${file}\``,
    );
  return openStore(url);
}

export type OpenedStore = Awaited<ReturnType<typeof openExistingStore>>;

/** A store error that means the tables are missing, said as what to do. */
export function missingTables(e: unknown): LeoflowError | null {
  return /no such table: (users|teams|team_roles)|relation "(users|teams|team_roles)" does not exist/.test(errorMessage(e))
    ? new LeoflowError(
        "the database has no Leoflow tables yet (or an older schema); run `leoflow db migrate --db URL` (or start the server once) first",
      )
    : null;
}
