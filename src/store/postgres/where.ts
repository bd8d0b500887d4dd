/** How errors about reaching a Postgres deployment name it, and what they tell the user to check. */
import { redactUrl } from "../../domain";

/** The database (password masked) and, when given, its schema: `postgres://leo@db:5432/x (schema etl)`. */
export const postgresWhere = (url: string, schema?: string): string => `${redactUrl(url)}${schema ? ` (schema ${schema})` : ""}`;

/** The fix for a database Leoflow could not reach or use. */
export const CHECK_DB = "check --db (host, port, database, user, password) and that the server is running";
