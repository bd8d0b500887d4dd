/** Persistent state: the Store interface and its implementations. */
export * from "./store";
export { openStore, sqlitePathOf, splitSchema, type OpenStoreOptions } from "./open";
export { runMigrations, migrationFromFile, type Migration, type MigrationTarget } from "./migrate";
export { SqliteStore } from "./sqlite";
export { PostgresStore, type PostgresStoreOptions } from "./postgres";
export { assertLegalTransitions } from "./guard";
export { DEPENDS_ON_PAST_NOTE_PREFIX } from "./still-moving";
export { postgresDriver } from "./postgres/driver";
export { withSecrets, variableIsSecret } from "./secrets";
export { SecretsCipher, SecretUnreadableError, generateSecretsKey, secretsKeyId, isSealed, sealedKeyId } from "./secrets-cipher";
export { rotateSecrets, readStoredSecrets, foreignKeyIds, planRotation, type RotationKeys, type RotationResult } from "./secrets-rotate";
