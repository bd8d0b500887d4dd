/** Persistent state: the Store interface and its implementations. */
export * from "./store";
export { openStore, sqlitePathOf, type OpenStoreOptions } from "./open";
export { runMigrations, migrationFromFile, type Migration, type MigrationTarget } from "./migrate";
export { SqliteStore } from "./sqlite";
