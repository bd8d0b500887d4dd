/** Teams (tenants) on Postgres: the rows of `teams`, and what creating and deleting one carries with it. */
import { ConflictError, DEFAULT_TEAM, ValidationError, teamNameProblem, type TeamInput, type TeamRecord } from "../../domain";
import type { TeamPatch } from "../ports/teams";
import { OWNED_BY_TEAM, ownsDags, retiredTeam } from "../team-delete";
import { execute, jsonText, Params, query, type Db, type Pool } from "./client";

const COLUMNS = "name, description, max_running_tasks, max_pool_slots, max_inline_requests, executor_policy, created_at";

export async function listTeams(db: Db): Promise<TeamRecord[]> {
  return query<TeamRecord>(db, `SELECT ${COLUMNS} FROM teams ORDER BY name`);
}

export async function getTeam(db: Db, name: string): Promise<TeamRecord | null> {
  const [row] = await query<TeamRecord>(db, `SELECT ${COLUMNS} FROM teams WHERE name = $1`, [name]);
  return row ?? null;
}

export async function createTeam(sql: Pool, input: TeamInput, now: Date): Promise<TeamRecord> {
  const problem = teamNameProblem(input.name);
  if (problem) throw new ValidationError(problem, [{ path: "name", message: problem }]);
  return (await sql.begin(async (tx) => {
    const inserted = await execute(
      tx,
      `INSERT INTO teams (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7) ON CONFLICT (name) DO NOTHING`,
      [
        input.name,
        input.description,
        input.max_running_tasks,
        input.max_pool_slots,
        input.max_inline_requests,
        jsonText(input.executor_policy),
        now,
      ],
    );
    if (inserted === 0) throw new ConflictError(`team "${input.name}" already exists; change it with PATCH (or \`leoflow teams set\`)`);
    await execute(
      tx,
      "INSERT INTO pools (team, name, slots, description, include_deferred) VALUES ($1, 'default_pool', 128, 'Default pool', false)",
      [input.name],
    );
    return getTeam(tx, input.name);
  })) as TeamRecord;
}

export async function updateTeam(db: Db, name: string, patch: TeamPatch): Promise<TeamRecord | null> {
  const p = new Params();
  const sets: string[] = [];
  for (const field of ["description", "max_running_tasks", "max_pool_slots", "max_inline_requests"] as const)
    if (patch[field] !== undefined) sets.push(`${field} = ${p.add(patch[field])}`);
  if (patch.executor_policy !== undefined) sets.push(`executor_policy = ${p.add(jsonText(patch.executor_policy))}::text::jsonb`);
  if (sets.length) await execute(db, `UPDATE teams SET ${sets.join(", ")} WHERE name = ${p.add(name)}`, p.values);
  return getTeam(db, name);
}

/** The team's row is locked first, so a DAG sync adding a DAG to it (whose FK needs the row) waits or fails. */
export async function deleteTeam(sql: Pool, name: string): Promise<boolean> {
  if (name === DEFAULT_TEAM)
    throw new ConflictError(`team "${DEFAULT_TEAM}" cannot be deleted: it is where single-team installs and install admins live`);
  return (await sql.begin(async (tx) => {
    const [team] = await query<{ name: string }>(tx, "SELECT name FROM teams WHERE name = $1 FOR UPDATE", [name]);
    if (!team) return false;
    const dags = await query<{ dag_id: string }>(tx, "SELECT dag_id FROM dags WHERE team = $1 ORDER BY dag_id", [name]);
    if (dags.length)
      throw new ConflictError(
        ownsDags(
          name,
          dags.map((d) => d.dag_id),
        ),
      );
    for (const table of OWNED_BY_TEAM) await execute(tx, `DELETE FROM ${table} WHERE team = $1`, [name]);
    await execute(tx, "UPDATE audit_log SET team = $1 WHERE team = $2", [retiredTeam(name), name]);
    await execute(tx, "DELETE FROM team_roles WHERE team = $1", [name]);
    await execute(tx, "DELETE FROM teams WHERE name = $1", [name]);
    return true;
  })) as boolean;
}
