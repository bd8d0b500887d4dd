/** A team that DAG folders name, created at start with default settings when missing (see DagSyncStore.ensureTeam). */
import { execute, type Pool } from "./client";

export async function ensureTeam(sql: Pool, team: string, now: Date): Promise<boolean> {
  return (await sql.begin(async (tx) => {
    const created = await execute(tx, "INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [team, now]);
    // Every task names default_pool unless it says otherwise; each team has its own, as Airflow creates it.
    await execute(
      tx,
      `INSERT INTO pools (team, name, slots, description, include_deferred) VALUES ($1, 'default_pool', 128, 'Default pool', false)
       ON CONFLICT (team, name) DO NOTHING`,
      [team],
    );
    return created > 0;
  })) as boolean;
}
