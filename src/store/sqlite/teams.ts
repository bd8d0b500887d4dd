/** Teams (tenants) on SQLite: the rows of `teams`, and what creating and deleting one carries with it. */
import type { Database } from "bun:sqlite";
import {
  ConflictError,
  DEFAULT_TEAM,
  ValidationError,
  teamNameProblem,
  type ExecutorPolicy,
  type TeamInput,
  type TeamRecord,
} from "../../domain";
import type { TeamPatch } from "../ports/teams";
import { OWNED_BY_TEAM, ownsDags, retiredTeam } from "../team-delete";

interface TeamRow {
  name: string;
  description: string | null;
  max_running_tasks: number | null;
  max_pool_slots: number | null;
  max_inline_requests: number | null;
  executor_policy: string;
  created_at: number;
}

const COLUMNS = "name, description, max_running_tasks, max_pool_slots, max_inline_requests, executor_policy, created_at";

const toTeam = (r: TeamRow): TeamRecord => ({
  ...r,
  executor_policy: JSON.parse(r.executor_policy) as ExecutorPolicy,
  created_at: new Date(r.created_at),
});

export function listTeams(db: Database): TeamRecord[] {
  return (db.query(`SELECT ${COLUMNS} FROM teams ORDER BY name`).all() as TeamRow[]).map(toTeam);
}

export function getTeam(db: Database, name: string): TeamRecord | null {
  const row = db.query(`SELECT ${COLUMNS} FROM teams WHERE name = ?`).get(name) as TeamRow | null;
  return row ? toTeam(row) : null;
}

export function createTeam(db: Database, input: TeamInput, now: Date): TeamRecord {
  const problem = teamNameProblem(input.name);
  if (problem) throw new ValidationError(problem, [{ path: "name", message: problem }]);
  return db
    .transaction(() => {
      const inserted = db
        .query(`INSERT INTO teams (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`)
        .run(
          input.name,
          input.description,
          input.max_running_tasks,
          input.max_pool_slots,
          input.max_inline_requests,
          JSON.stringify(input.executor_policy),
          now.getTime(),
        ).changes;
      if (inserted === 0) throw new ConflictError(`team "${input.name}" already exists; change it with PATCH (or \`leoflow teams set\`)`);
      db.query(
        "INSERT INTO pools (team, name, slots, description, include_deferred) VALUES (?, 'default_pool', 128, 'Default pool', 0)",
      ).run(input.name);
      return getTeam(db, input.name) as TeamRecord;
    })
    .immediate();
}

export function updateTeam(db: Database, name: string, patch: TeamPatch): TeamRecord | null {
  const sets: string[] = [];
  const values: (string | number | null)[] = [];
  for (const field of ["description", "max_running_tasks", "max_pool_slots", "max_inline_requests"] as const) {
    const v = patch[field];
    if (v === undefined) continue;
    sets.push(`${field} = ?`);
    values.push(v);
  }
  if (patch.executor_policy !== undefined) {
    sets.push("executor_policy = ?");
    values.push(JSON.stringify(patch.executor_policy));
  }
  if (sets.length) db.query(`UPDATE teams SET ${sets.join(", ")} WHERE name = ?`).run(...values, name);
  return getTeam(db, name);
}

export function deleteTeam(db: Database, name: string): boolean {
  if (name === DEFAULT_TEAM)
    throw new ConflictError(`team "${DEFAULT_TEAM}" cannot be deleted: it is where single-team installs and install admins live`);
  return db
    .transaction(() => {
      if (!getTeam(db, name)) return false;
      const dags = db.query("SELECT dag_id FROM dags WHERE team = ? ORDER BY dag_id").all(name) as { dag_id: string }[];
      if (dags.length)
        throw new ConflictError(
          ownsDags(
            name,
            dags.map((d) => d.dag_id),
          ),
        );
      for (const table of OWNED_BY_TEAM) db.query(`DELETE FROM ${table} WHERE team = ?`).run(name);
      db.query("UPDATE audit_log SET team = ? WHERE team = ?").run(retiredTeam(name), name);
      db.query("DELETE FROM team_roles WHERE team = ?").run(name);
      db.query("DELETE FROM teams WHERE name = ?").run(name);
      return true;
    })
    .immediate();
}
