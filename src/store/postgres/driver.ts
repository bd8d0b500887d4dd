/**
 * The postgres package, loaded on first use. A Lite server on SQLite never talks to Postgres, and
 * evaluating the driver at start-up cost ~30 ms of every start of the compiled binary (measured).
 */
import type postgres from "postgres";

let driver: typeof postgres | undefined;

export function postgresDriver(): typeof postgres {
  return (driver ??= (require("postgres") as { default: typeof postgres }).default);
}
