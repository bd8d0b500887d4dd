/**
 * The SQLite migrations, embedded as text so the compiled binary needs no source tree, and the
 * MigrationTarget that applies them. Add a migration: create sql/sqlite/NNNN_name.sql and append it here.
 */
import type { Database } from "bun:sqlite";
import { migrationFromFile, SCHEMA_MIGRATIONS_DDL, type Migration, type MigrationTarget } from "../migrate";
import initSql from "../../../sql/sqlite/0001_init.sql" with { type: "text" };
import schedulingSql from "../../../sql/sqlite/0002_scheduling.sql" with { type: "text" };
import variablesConnectionsSql from "../../../sql/sqlite/0003_variables_connections.sql" with { type: "text" };
import reliabilitySql from "../../../sql/sqlite/0004_reliability.sql" with { type: "text" };
import poolsSql from "../../../sql/sqlite/0005_pools.sql" with { type: "text" };
import incrementalSweepSql from "../../../sql/sqlite/0006_incremental_sweep.sql" with { type: "text" };
import secretsSql from "../../../sql/sqlite/0007_secrets.sql" with { type: "text" };
import eventsSql from "../../../sql/sqlite/0008_events.sql" with { type: "text" };
import waitReasonSql from "../../../sql/sqlite/0009_wait_reason.sql" with { type: "text" };
import stagingVolumesSql from "../../../sql/sqlite/0010_staging_volumes.sql" with { type: "text" };
import auditLogSql from "../../../sql/sqlite/0011_audit_log.sql" with { type: "text" };
import taskInstanceHistorySql from "../../../sql/sqlite/0012_task_instance_history.sql" with { type: "text" };
import teamsSql from "../../../sql/sqlite/0013_teams.sql" with { type: "text" };
import taskMappingSql from "../../../sql/sqlite/0014_task_mapping.sql" with { type: "text" };
import sensorsSql from "../../../sql/sqlite/0015_sensors.sql" with { type: "text" };
import webhooksSql from "../../../sql/sqlite/0016_webhooks.sql" with { type: "text" };
import callbacksSql from "../../../sql/sqlite/0017_callbacks.sql" with { type: "text" };
import taskInstanceChangesSql from "../../../sql/sqlite/0018_task_instance_changes.sql" with { type: "text" };
import dropPoolStateIndexSql from "../../../sql/sqlite/0019_drop_pool_state_index.sql" with { type: "text" };
import taskLogChunksSql from "../../../sql/sqlite/0020_task_log_chunks.sql" with { type: "text" };
import eventLogBatchesSql from "../../../sql/sqlite/0021_event_log_batches.sql" with { type: "text" };
import dropUpdatedAtIndexSql from "../../../sql/sqlite/0022_drop_updated_at_index.sql" with { type: "text" };
import dagRunsRunningIndexSql from "../../../sql/sqlite/0023_dag_runs_running_index.sql" with { type: "text" };
import partialTaskIndexesSql from "../../../sql/sqlite/0024_partial_task_indexes.sql" with { type: "text" };
import taskInstancesRunOrderSql from "../../../sql/sqlite/0025_task_instances_run_order.sql" with { type: "text" };
import coveringStateIndexSql from "../../../sql/sqlite/0026_covering_state_index.sql" with { type: "text" };
import dagRunTriggeringUserSql from "../../../sql/sqlite/0027_dag_run_triggering_user.sql" with { type: "text" };
import dagRunRunAfterSql from "../../../sql/sqlite/0028_dag_run_run_after.sql" with { type: "text" };
import schedulerHeartbeatSql from "../../../sql/sqlite/0029_scheduler_heartbeat.sql" with { type: "text" };
import taskInstanceUserNoteSql from "../../../sql/sqlite/0030_task_instance_user_note.sql" with { type: "text" };
import signingFingerprintSql from "../../../sql/sqlite/0031_signing_fingerprint.sql" with { type: "text" };

export const SQLITE_MIGRATIONS: Migration[] = [
  migrationFromFile("0001_init.sql", initSql),
  migrationFromFile("0002_scheduling.sql", schedulingSql),
  migrationFromFile("0003_variables_connections.sql", variablesConnectionsSql),
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
  migrationFromFile("0019_drop_pool_state_index.sql", dropPoolStateIndexSql),
  migrationFromFile("0020_task_log_chunks.sql", taskLogChunksSql),
  migrationFromFile("0021_event_log_batches.sql", eventLogBatchesSql),
  migrationFromFile("0022_drop_updated_at_index.sql", dropUpdatedAtIndexSql),
  migrationFromFile("0023_dag_runs_running_index.sql", dagRunsRunningIndexSql),
  migrationFromFile("0024_partial_task_indexes.sql", partialTaskIndexesSql),
  migrationFromFile("0025_task_instances_run_order.sql", taskInstancesRunOrderSql),
  migrationFromFile("0026_covering_state_index.sql", coveringStateIndexSql),
  migrationFromFile("0027_dag_run_triggering_user.sql", dagRunTriggeringUserSql),
  migrationFromFile("0028_dag_run_run_after.sql", dagRunRunAfterSql),
  migrationFromFile("0029_scheduler_heartbeat.sql", schedulerHeartbeatSql),
  migrationFromFile("0030_task_instance_user_note.sql", taskInstanceUserNoteSql),
  migrationFromFile("0031_signing_fingerprint.sql", signingFingerprintSql),
];

export function sqliteMigrationTarget(db: Database): MigrationTarget {
  return {
    async ensureMigrationsTable() {
      db.run(SCHEMA_MIGRATIONS_DDL);
    },
    async appliedVersions() {
      return db
        .query<{ version: number }, []>("SELECT version FROM schema_migrations")
        .all()
        .map((r) => r.version);
    },
    async applyMigration(m, appliedAt) {
      // Foreign keys are off while a migration runs (a rebuilt table is dropped and renamed, which must not
      // cascade into its children) and checked before the commit: SQLite's documented ALTER TABLE procedure.
      // The pragma is a no-op inside a transaction, so it is set around it.
      db.run("PRAGMA foreign_keys = OFF");
      try {
        // IMMEDIATE takes the write lock first, so a second process waits and then sees the version recorded.
        return db
          .transaction(() => {
            if (db.query("SELECT 1 FROM schema_migrations WHERE version = ?").get(m.version)) return false;
            db.run(m.sql);
            const broken = db.query<{ table: string; parent: string }, []>("PRAGMA foreign_key_check").all();
            if (broken.length > 0)
              throw new Error(
                `it leaves ${broken.length} rows whose foreign key has no parent (first: ${broken[0]?.table} → ${broken[0]?.parent})`,
              );
            db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [m.version, m.name, appliedAt.getTime()]);
            return true;
          })
          .immediate();
      } finally {
        db.run("PRAGMA foreign_keys = ON");
      }
    },
  };
}
