/**
 * The Postgres migrations, embedded as text so the compiled binary needs no source tree, and the
 * MigrationTarget that applies them. Add a migration: create sql/postgres/NNNN_name.sql and append it here.
 *
 * Two replicas starting at once both run the migrations: every step takes a transaction-scoped advisory
 * lock first (per schema), so the second waits, then sees the version recorded and skips it.
 */
import { SCHEMA_MIGRATIONS_DDL, migrationFromFile, type Migration, type MigrationTarget } from "../migrate";
import initSql from "../../../sql/postgres/0001_init.sql" with { type: "text" };
import schedulingSql from "../../../sql/postgres/0002_scheduling.sql" with { type: "text" };
import variablesSql from "../../../sql/postgres/0003_variables_connections.sql" with { type: "text" };
import reliabilitySql from "../../../sql/postgres/0004_reliability.sql" with { type: "text" };
import poolsSql from "../../../sql/postgres/0005_pools.sql" with { type: "text" };
import incrementalSweepSql from "../../../sql/postgres/0006_incremental_sweep.sql" with { type: "text" };
import secretsSql from "../../../sql/postgres/0007_secrets.sql" with { type: "text" };
import eventsSql from "../../../sql/postgres/0008_events.sql" with { type: "text" };
import waitReasonSql from "../../../sql/postgres/0009_wait_reason.sql" with { type: "text" };
import stagingVolumesSql from "../../../sql/postgres/0010_staging_volumes.sql" with { type: "text" };
import auditLogSql from "../../../sql/postgres/0011_audit_log.sql" with { type: "text" };
import taskInstanceHistorySql from "../../../sql/postgres/0012_task_instance_history.sql" with { type: "text" };
import teamsSql from "../../../sql/postgres/0013_teams.sql" with { type: "text" };
import taskMappingSql from "../../../sql/postgres/0014_task_mapping.sql" with { type: "text" };
import sensorsSql from "../../../sql/postgres/0015_sensors.sql" with { type: "text" };
import webhooksSql from "../../../sql/postgres/0016_webhooks.sql" with { type: "text" };
import callbacksSql from "../../../sql/postgres/0017_callbacks.sql" with { type: "text" };
import taskInstanceChangesSql from "../../../sql/postgres/0018_task_instance_changes.sql" with { type: "text" };
import taskLogChunksSql from "../../../sql/postgres/0019_task_log_chunks.sql" with { type: "text" };
import eventLogBatchesSql from "../../../sql/postgres/0020_event_log_batches.sql" with { type: "text" };
import dagRunsRunningIndexSql from "../../../sql/postgres/0021_dag_runs_running_index.sql" with { type: "text" };
import changeStampsSql from "../../../sql/postgres/0022_change_stamps_in_statements.sql" with { type: "text" };
import changeCursorIndexSql from "../../../sql/postgres/0023_change_cursor_index.sql" with { type: "text" };
import taskInstancesRunOrderSql from "../../../sql/postgres/0024_task_instances_run_order.sql" with { type: "text" };
import dropTaskInstancesRunOrderSql from "../../../sql/postgres/0025_drop_task_instances_run_order.sql" with { type: "text" };
import dropDagRunsActiveSql from "../../../sql/postgres/0026_drop_dag_runs_active.sql" with { type: "text" };
import dagRunTriggeringUserSql from "../../../sql/postgres/0027_dag_run_triggering_user.sql" with { type: "text" };
import dagRunRunAfterSql from "../../../sql/postgres/0028_dag_run_run_after.sql" with { type: "text" };
import schedulerHeartbeatSql from "../../../sql/postgres/0029_scheduler_heartbeat.sql" with { type: "text" };
import taskInstanceUserNoteSql from "../../../sql/postgres/0030_task_instance_user_note.sql" with { type: "text" };
import signingFingerprintSql from "../../../sql/postgres/0031_signing_fingerprint.sql" with { type: "text" };
import { execute, query, type Db, type Pool } from "./client";

export const POSTGRES_MIGRATIONS: Migration[] = [
  migrationFromFile("0001_init.sql", initSql),
  migrationFromFile("0002_scheduling.sql", schedulingSql),
  migrationFromFile("0003_variables_connections.sql", variablesSql),
  migrationFromFile("0004_reliability.sql", reliabilitySql),
  migrationFromFile("0005_pools.sql", poolsSql),
  migrationFromFile("0006_incremental_sweep.sql", incrementalSweepSql),
  migrationFromFile("0007_secrets.sql", secretsSql),
  migrationFromFile("0008_events.sql", eventsSql),
  migrationFromFile("0009_wait_reason.sql", waitReasonSql),
  migrationFromFile("0010_staging_volumes.sql", stagingVolumesSql),
  migrationFromFile("0011_audit_log.sql", auditLogSql),
  migrationFromFile("0012_task_instance_history.sql", taskInstanceHistorySql),
  migrationFromFile("0013_teams.sql", teamsSql),
  migrationFromFile("0014_task_mapping.sql", taskMappingSql),
  migrationFromFile("0015_sensors.sql", sensorsSql),
  migrationFromFile("0016_webhooks.sql", webhooksSql),
  migrationFromFile("0017_callbacks.sql", callbacksSql),
  migrationFromFile("0018_task_instance_changes.sql", taskInstanceChangesSql),
  migrationFromFile("0019_task_log_chunks.sql", taskLogChunksSql),
  migrationFromFile("0020_event_log_batches.sql", eventLogBatchesSql),
  migrationFromFile("0021_dag_runs_running_index.sql", dagRunsRunningIndexSql),
  migrationFromFile("0022_change_stamps_in_statements.sql", changeStampsSql),
  migrationFromFile("0023_change_cursor_index.sql", changeCursorIndexSql),
  migrationFromFile("0024_task_instances_run_order.sql", taskInstancesRunOrderSql),
  migrationFromFile("0025_drop_task_instances_run_order.sql", dropTaskInstancesRunOrderSql),
  migrationFromFile("0026_drop_dag_runs_active.sql", dropDagRunsActiveSql),
  migrationFromFile("0027_dag_run_triggering_user.sql", dagRunTriggeringUserSql),
  migrationFromFile("0028_dag_run_run_after.sql", dagRunRunAfterSql),
  migrationFromFile("0029_scheduler_heartbeat.sql", schedulerHeartbeatSql),
  migrationFromFile("0030_task_instance_user_note.sql", taskInstanceUserNoteSql),
  migrationFromFile("0031_signing_fingerprint.sql", signingFingerprintSql),
];

/**
 * First key of the migration advisory lock ("Leof" in ASCII); the second is hashtext(schema), so stores in
 * different schemas of one database (tests) do not wait for each other. Leader election uses its own key.
 */
export const MIGRATION_LOCK_KEY = 0x4c656f66;

async function lockMigrations(tx: Db, schema: string): Promise<void> {
  await query(tx, "SELECT pg_advisory_xact_lock($1::int, hashtext($2))", [MIGRATION_LOCK_KEY, schema]);
}

export function postgresMigrationTarget(sql: Pool, schema: string): MigrationTarget {
  return {
    async ensureMigrationsTable() {
      await sql.begin(async (tx) => {
        await lockMigrations(tx, schema);
        // Checked first: CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege on the database,
        // which a user given only an existing schema does not have.
        const [exists] = await query(tx, "SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
        if (!exists) await tx.unsafe(`CREATE SCHEMA "${schema}"`);
        await tx.unsafe(SCHEMA_MIGRATIONS_DDL);
      });
    },
    async appliedVersions() {
      return (await query<{ version: number }>(sql, "SELECT version FROM schema_migrations")).map((r) => r.version);
    },
    async applyMigration(m, appliedAt) {
      return (await sql.begin(async (tx) => {
        await lockMigrations(tx, schema);
        const [done] = await query(tx, "SELECT 1 FROM schema_migrations WHERE version = $1", [m.version]);
        if (done) return false;
        await tx.unsafe(m.sql).simple();
        await execute(tx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
          m.version,
          m.name,
          appliedAt.getTime(),
        ]);
        return true;
      })) as boolean;
    },
  };
}
