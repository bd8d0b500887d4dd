/**
 * A team that a DAG folder names, created at start with default settings when missing (DagSyncStore.ensureTeam):
 * the same creation as `leoflow teams create` (the team and its default_pool in one transaction), so the two
 * never drift apart. A concurrent creator (another replica starting) is not an error.
 */
import { ConflictError } from "../domain";
import type { TeamStore } from "./ports/teams";

export async function ensureTeam(teams: Pick<TeamStore, "getTeam" | "createTeam">, team: string, now: Date): Promise<boolean> {
  if (await teams.getTeam(team)) return false;
  try {
    const unlimited = { max_running_tasks: null, max_pool_slots: null, max_inline_requests: null };
    await teams.createTeam({ name: team, description: null, ...unlimited, executor_policy: {} }, now);
    return true;
  } catch (e) {
    if (e instanceof ConflictError) return false;
    throw e;
  }
}
