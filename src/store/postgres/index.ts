/** The Postgres implementation of the Store (Pro mode's store; Lite may use it too). */
export { PostgresStore, type PostgresStoreOptions } from "./postgres-store";
export { POSTGRES_MIGRATIONS, MIGRATION_LOCK_KEY } from "./migrations";
export { PgAdvisoryLock, type AdvisoryLock, type AdvisoryLockOptions, type LockHolderSession } from "./advisory-lock";
export { PgNotifyChannel, type NotifyChannel, type PgNotifyChannelOptions } from "./notify";
