/**
 * TeamPolicies: every team's executor policy, held in memory and refreshed with one query (all teams) at
 * most every `ttlMs`, so checking a try against its team's policy costs no query on the dispatch hot path.
 * An admin's change reaches dispatch within `ttlMs`. A refresh that fails keeps the last policies (and tries
 * again after `ttlMs`); with none loaded yet, the dispatch fails and the retry policy launches it again.
 *
 * @example
 * const policies = new TeamPolicies({ source: store, ttlMs: 5000, logger });
 * const team = await policies.teamOf(ti.team); // { name, executor_policy }
 */
import { LeoflowError, errorMessage, type TeamRecord } from "../domain";
import type { Logger } from "../observability";

export type TeamPolicy = Pick<TeamRecord, "name" | "executor_policy">;

/** The one store call this needs (the TeamStore port has it). */
export interface TeamPolicySource {
  listTeams(): Promise<TeamPolicy[]>;
}

export interface TeamPoliciesOptions {
  source: TeamPolicySource;
  /** How long loaded policies are used before the next read. */
  ttlMs: number;
  logger: Logger;
  /** Milliseconds on a monotonic clock; tests pass their own. */
  clock?: () => number;
}

/** How long a read of the teams' policies is used: an admin's change reaches dispatch within this. */
export const TEAM_POLICY_TTL_MS = 5000;

/** A team unknown right after a reload is not reloaded again for this long (a deleted team's stray try). */
const MISSING_RELOAD_MS = 1000;

export class TeamPolicies {
  private byName: Map<string, TeamPolicy> | null = null;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<Map<string, TeamPolicy>> | null = null;
  private readonly clock: () => number;

  constructor(private readonly o: TeamPoliciesOptions) {
    this.clock = o.clock ?? (() => performance.now());
  }

  /** The team's policy; throws a precise error when the team does not exist. */
  async teamOf(team: string): Promise<TeamPolicy> {
    let found = (await this.current()).get(team);
    if (!found && this.clock() - this.loadedAt >= MISSING_RELOAD_MS) found = (await this.reload()).get(team);
    if (!found)
      throw new LeoflowError(
        `team ${team} of this task instance is not in the teams table, so its executor policy is unknown and the try is not launched; create the team again (leoflow teams) or delete its DAGs`,
      );
    return found;
  }

  /** A team's policy changed through the teams API: the next lookup reads them again instead of waiting out `ttlMs`. */
  forget(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** Every team's policy (the Kubernetes reconciler lists the namespaces they name). */
  async all(): Promise<TeamPolicy[]> {
    return [...(await this.current()).values()];
  }

  private current(): Promise<Map<string, TeamPolicy>> {
    if (this.byName && this.clock() - this.loadedAt < this.o.ttlMs) return Promise.resolve(this.byName);
    return this.reload();
  }

  /** One read shared by every caller waiting on it. */
  private reload(): Promise<Map<string, TeamPolicy>> {
    this.loading ??= this.read().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async read(): Promise<Map<string, TeamPolicy>> {
    let loaded = this.byName;
    try {
      const teams = await this.o.source.listTeams();
      loaded = new Map(teams.map((t) => [t.name, { name: t.name, executor_policy: t.executor_policy }]));
    } catch (e) {
      if (!loaded)
        throw new LeoflowError(`reading the teams' executor policies failed, so no try is launched yet: ${errorMessage(e)}`, {
          cause: e,
        });
      this.o.logger.warn("refreshing the teams' executor policies failed; using the last ones read", { error: errorMessage(e) });
    }
    this.byName = loaded;
    this.loadedAt = this.clock();
    return loaded;
  }
}
