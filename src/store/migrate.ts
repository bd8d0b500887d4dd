/**
 * The migration runner both stores share: numbered SQL files applied in order, each in its own transaction,
 * recorded in `schema_migrations`, so running it at every start applies only what is new.
 *
 * @example
 * await runMigrations(SQLITE_MIGRATIONS, sqliteMigrationTarget(db));
 */

/** One numbered migration, e.g. `sql/sqlite/0001_init.sql` → { version: 1, name: "init", sql }. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** What a backend provides to the runner; the runner owns the ordering and the checks. */
export interface MigrationTarget {
  /** Creates `schema_migrations` if missing (see SCHEMA_MIGRATIONS_DDL). */
  ensureMigrationsTable(): Promise<void>;
  /** Versions already recorded in `schema_migrations`. */
  appliedVersions(): Promise<number[]>;
  /**
   * Runs `m.sql` and inserts its row into `schema_migrations` in ONE transaction. Returns false (and changes
   * nothing) when another process recorded the version first, which the target must check inside the
   * transaction so two servers starting together do not both apply it.
   */
  applyMigration(m: Migration, appliedAt: Date): Promise<boolean>;
}

/** Portable DDL (SQLite and Postgres) for the bookkeeping table. */
export const SCHEMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at BIGINT  NOT NULL
)`;

/**
 * Builds a Migration from a file name of the form `NNNN_name.sql`.
 *
 * @example migrationFromFile("0002_add_pools.sql", text) // { version: 2, name: "add_pools", sql: text }
 */
export function migrationFromFile(fileName: string, sql: string): Migration {
  const m = /^(\d+)_([A-Za-z0-9_]+)\.sql$/.exec(fileName.split("/").pop() ?? "");
  if (!m) throw new Error(`migration file name "${fileName}" is not of the form NNNN_name.sql (e.g. 0001_init.sql)`);
  return { version: Number(m[1]), name: m[2]!, sql };
}

/** Throws unless versions are unique and strictly increasing from 1 without gaps. */
export function checkMigrationList(migrations: Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(
        `migration "${m.name}" has version ${m.version} but is number ${i + 1} in the list; ` +
          `migrations must be numbered 1, 2, 3, … in order with no gaps or duplicates`,
      );
  });
}

/**
 * Applies every migration not yet recorded, in version order. Returns the ones this call applied (empty when
 * the schema was already current). Refuses a database migrated by a newer Leoflow.
 */
export async function runMigrations(
  migrations: Migration[],
  target: MigrationTarget,
  now: () => Date = () => new Date(),
): Promise<Migration[]> {
  checkMigrationList(migrations);
  await target.ensureMigrationsTable();
  const applied = new Set(await target.appliedVersions());
  const newest = Math.max(0, ...applied);
  if (newest > migrations.length)
    throw new Error(
      `the database schema is at version ${newest} but this Leoflow knows migrations up to ${migrations.length}; ` +
        `run a Leoflow release at least as new as the one that last migrated this database`,
    );
  const done: Migration[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    try {
      if (await target.applyMigration(m, now())) done.push(m);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`migration ${String(m.version).padStart(4, "0")}_${m.name} failed and was rolled back: ${reason}`, { cause: err });
    }
  }
  return done;
}
