/**
 * Teams (tenants): who owns a DAG, a run, a variable. Every team-owned row carries its team and every store
 * port that reads or writes team-owned data by name takes the team as its first argument, so a query that
 * forgets the team does not compile. The team `default` is where a single-team install lives.
 */

export const DEFAULT_TEAM = "default";

/** A DNS label (RFC 1123): usable as a folder name, in a URL path and as part of a Kubernetes namespace. */
const TEAM_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Null when `name` can name a team; else why not, for an error message. */
export function teamNameProblem(name: string): string | null {
  if (TEAM_NAME.test(name)) return null;
  return `"${name}" is not a valid team name: use 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "data-eng")`;
}

/**
 * Where a team's tasks may run. Absent fields impose nothing. Checked when a task is dispatched (and its
 * image and resources when the DAG is parsed), so a team's tasks run only where that team may run.
 */
export interface ExecutorPolicy {
  /** Executors the team's tasks may use (e.g. ["subprocess", "kubernetes"]); absent: all. */
  executors?: string[];
  /** Glob patterns (`*` any run of characters) an image must match (docker, kubernetes); absent: any image. */
  images?: string[];
  /** Largest CPU a task may request/limit, Kubernetes quantity (e.g. "2", "500m"). */
  max_cpu?: string;
  /** Largest memory a task may request/limit, Kubernetes quantity (e.g. "4Gi"). */
  max_memory?: string;
  /** Kubernetes namespace of the team's pods (overrides the executor's namespace). */
  kubernetes_namespace?: string;
}

/** One team and its limits. Quotas are null when unlimited. */
export interface TeamRecord {
  name: string;
  description: string | null;
  /** Most task instances of the team queued or running at once. */
  max_running_tasks: number | null;
  /** Most pool slots the team's queued and running task instances may hold at once, over all its pools. */
  max_pool_slots: number | null;
  /** Most inline (HTTP) task requests of the team in flight at once. */
  max_inline_requests: number | null;
  executor_policy: ExecutorPolicy;
  created_at: Date;
}

/** Fields a team is created or replaced with. */
export type TeamInput = Omit<TeamRecord, "created_at">;

/**
 * One key for a team-scoped name (a DAG id, a pool name) across teams: two teams may both have DAG "etl" or
 * pool "gpu". What the scheduler's maps and the store's per-DAG counts are keyed by. A team name has no "/",
 * so the key is unambiguous.
 *
 * @example teamKey("data-eng", "etl") // "data-eng/etl"
 */
export function teamKey(team: string, name: string): string {
  return `${team}/${name}`;
}

/**
 * One key for a run by its names across teams (what lifecycle events carry: they have no run id). A run id may
 * hold "/", a DAG id may not; NUL can be in neither (json-safety.ts), so the key is unambiguous.
 *
 * @example runKey("data-eng", "etl", "manual__2026-01-01") // "data-eng/etl\u0000manual__2026-01-01"
 */
export function runKey(team: string, dagId: string, runId: string): string {
  return `${teamKey(team, dagId)}\u0000${runId}`;
}
