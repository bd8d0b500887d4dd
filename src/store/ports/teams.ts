/**
 * TeamStore: the teams (tenants) themselves, for the teams API, `leoflow teams` and the scheduler's quotas.
 * Teams are install-wide: these methods are not scoped by a team (only an install admin reaches them).
 */
import type { TeamInput, TeamRecord } from "../../domain";

/** Fields of a team that can change after it is created (absent: unchanged; null quota: unlimited). */
export type TeamPatch = Partial<Omit<TeamInput, "name">>;

export interface TeamStore {
  /** Every team, by name. */
  listTeams(): Promise<TeamRecord[]>;
  getTeam(name: string): Promise<TeamRecord | null>;
  /**
   * Creates the team and its `default_pool` (128 slots, "Default pool") in one transaction, so a new team's
   * tasks have a pool from the start. ValidationError for a bad name (teamNameProblem); ConflictError when
   * the name is taken.
   */
  createTeam(input: TeamInput, now: Date): Promise<TeamRecord>;
  /** Null when there is no such team. */
  updateTeam(name: string, patch: TeamPatch): Promise<TeamRecord | null>;
  /**
   * Deletes the team with its pools, variables, connections, import errors, DAG versions, role bindings and
   * events (its audit log stays: it records what people did). False when there is no such team.
   * ConflictError for `default` and while the team owns any DAG (its runs hang off them).
   */
  deleteTeam(name: string): Promise<boolean>;
}
