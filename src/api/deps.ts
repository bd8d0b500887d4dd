/** What the API needs from the rest of the server, and the per-request variables its middleware sets. */
import type { UserClaims, UserTokens } from "../auth";
import type { Logger, Metrics } from "../observability";
import type { EventHub, RunEnds } from "../events";
import type { ApiStore } from "../store";

export interface SchedulerHandle {
  /** Asks the scheduler to plan now (optionally a specific run) instead of at its next tick. */
  wake(dagRunId?: number): void;
  /** A team was created or its quotas or executor policy changed: apply them now, not at the next sweep. Absent: at the next sweep. */
  teamsChanged?(): void;
  health():
    | { status: "healthy" | "unhealthy"; latest_scheduler_heartbeat: string | null }
    | Promise<{ status: "healthy" | "unhealthy"; latest_scheduler_heartbeat: string | null }>;
}

/** The DAGs folder, as the API may ask of it (PUT /parseDagFile, re-parse after a delete). */
export interface DagFilesHandle {
  /**
   * Parses the file of `team`'s DAGs folder again now (even if unchanged) and applies the result; resolves
   * when it is in the store.
   */
  reparse(team: string, fileloc: string): Promise<void>;
}

export interface ApiDeps {
  store: ApiStore;
  /** null = `--auth=none` (loopback only): every route is open. */
  tokens: UserTokens | null;
  version: string;
  scheduler: SchedulerHandle;
  now?: () => Date;
  logger?: Logger;
  /** Lifecycle events, streamed at GET /api/v2/leoflow/events (authenticated). */
  events?: EventHub;
  /** Prometheus metrics, served at GET /metrics (open, like health). */
  metrics?: Metrics;
  /** Largest request body, in bytes (`--api-max-body`; default MAX_BODY_BYTES). */
  maxBodyBytes?: number;
  /** `--test-connection=Enabled`: POST /connections/test may reach the hosts users name (else 403, as Airflow). */
  testConnection?: boolean;
  /** The server's effective configuration (flag names with `_`), for GET /config; secrets are redacted there. */
  config?: Readonly<Record<string, unknown>>;
  /** The DAGs folder sync; absent (tests, no folder): PUT /parseDagFile answers 404. */
  dagFiles?: DagFilesHandle;
  /** Reverse proxies in front whose X-Forwarded-For names the client (login throttling); 0 or unset: none. */
  trustedProxyHops?: number;
  /**
   * The webhook delivery worker: poked after a test ping or a redeliver so it sends at once; `changed` tells
   * the other replicas (Pro) that a webhook was created, changed or deleted (events/webhook-changes.ts).
   */
  webhooks?: { poke(): void; changed?(): void };
  /** Word that a run ended (events/run-ends.ts): GET …/wait answers then, not at its next interval. */
  runEnds?: Pick<RunEnds, "wait">;
}

/** ApiDeps with defaults filled in; what route modules receive. */
export interface ResolvedDeps extends ApiDeps {
  now: () => Date;
  logger: Logger;
}

export type ApiEnv = {
  Variables: {
    /** The caller; null when auth is off. */
    user: UserClaims | null;
    /** The team this request acts in (set by requireUser); read it with teamOf(c). */
    team: string;
    /** An Admin of team `default` (or auth is off): may manage teams and users, and act in any team. */
    installAdmin: boolean;
  };
};
