/** A team that DAG folders name, created at start with default settings when missing (see DagSyncStore.ensureTeam). */
import type { Database } from "bun:sqlite";

export function ensureTeam(db: Database, team: string, now: Date): boolean {
  return db
    .transaction(() => {
      const { changes } = db
        .query("INSERT INTO teams (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
        .run(team, now.getTime());
      // Every task names default_pool unless it says otherwise; each team has its own, as Airflow creates it.
      db.query(
        `INSERT INTO pools (team, name, slots, description, include_deferred) VALUES (?, 'default_pool', 128, 'Default pool', 0)
         ON CONFLICT (team, name) DO NOTHING`,
      ).run(team);
      return changes > 0;
    })
    .immediate();
}
