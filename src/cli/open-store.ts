/** How the store commands (`leoflow users`, `leoflow teams`) open the server's database: --db, else --data-dir, as serve. */
import { existsSync } from "node:fs";
import { LeoflowError, errorMessage } from "../domain";
import type { CliIo } from "./secrets";

export async function openExistingStore(values: { db?: string; "data-dir"?: string }, io: CliIo) {
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

export type OpenedStore = Awaited<ReturnType<typeof openExistingStore>>;

/** A store error that means the tables are missing, said as what to do. */
export function missingTables(e: unknown): LeoflowError | null {
  return /no such table: (users|teams|team_roles)|relation "(users|teams|team_roles)" does not exist/.test(errorMessage(e))
    ? new LeoflowError(
        "the database has no Leoflow tables yet (or an older schema); run `leoflow db migrate --db URL` (or start the server once) first",
      )
    : null;
}
