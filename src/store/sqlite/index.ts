/** The SQLite implementation of the Store (Lite mode's default). */
export { SqliteStore, DEFAULT_XCOM_MAX_BYTES, type SqliteStoreOptions } from "./sqlite-store";
export { SQLITE_MIGRATIONS } from "./migrations";
export { canonicalJson, specHash } from "./dags";
