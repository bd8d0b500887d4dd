/** What the operator configures for the Docker executor (from `leoflow serve --docker-*` flags). */
// Bun.CryptoHasher, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server ~5 ms
// of every start (test/architecture/startup-graph.test.ts).

export const PULL_POLICIES = ["always", "if_not_present", "never"] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export interface DockerSettings {
  /** Engine address: unix:///var/run/docker.sock, or http://host:port. */
  host: string;
  /** Image for tasks that name none (neither the task nor the DAG's default_args). */
  defaultImage: string;
  /** Network mode; "host" lets the agent reach http://127.0.0.1:PORT. */
  network: string;
  /** Limits applied when a task's resources leave them unset (limits are always set). */
  defaultCpu: string | number;
  defaultMemory: string;
  pullPolicy: PullPolicy;
  /** "uid:gid" tasks run as; "" keeps the image's USER. */
  user: string;
  /** Host path of the leoflow binary, bind-mounted read-only at /leoflow/leoflow. */
  agentBinary: string;
  /** Largest process count per container (fork bombs stop here). */
  pidsLimit: number;
  /**
   * Names the store this server works for (dockerInstanceId). Containers carry it in their name and as a
   * label, so installs sharing an engine never clash on a name, and the reconciler of one Leoflow never
   * touches another's containers.
   */
  instance: string;
  /**
   * The --task-env-passthrough variables of the server, by name: the only server variables a task container
   * gets (the image sets PATH and HOME; see task-env.ts).
   */
  passthroughEnv?: Record<string, string>;
}

/**
 * The instance id: 12 hex digits of a digest of the store's address and its creation time, so two installs
 * on one engine differ, and so does a store reset at the same address. Pure.
 *
 * @example dockerInstanceId("/srv/leoflow.db", new Date(0)) // "3f…" (12 hex digits)
 */
export function dockerInstanceId(storeAddress: string, storeCreatedAt: Date | null): string {
  return new Bun.CryptoHasher("sha256")
    .update(`${storeAddress}\0${storeCreatedAt?.getTime() ?? ""}`)
    .digest("hex")
    .slice(0, 12);
}

/** What a DAG may ask for; anything else is refused when the DAG is loaded. */
export interface DockerPolicy {
  /** Image patterns (`*` matches any run of characters); empty means any image. */
  allowedImages: string[];
  /** Largest CPU and memory a task may request; undefined means no cap. */
  maxCpu?: string | number;
  maxMemory?: string;
}

/** Where the agent binary appears inside every task container. */
export const AGENT_PATH_IN_CONTAINER = "/leoflow/leoflow";
/** Where the run's staging volume is mounted. */
export const STAGING_MOUNT = "/staging";

export const LABEL = {
  managed: "io.leoflow.managed",
  instance: "io.leoflow.instance",
  /** The team of the run (staging volumes; absent on volumes made before teams: the default team's). */
  team: "io.leoflow.team",
  dagId: "io.leoflow.dag_id",
  runId: "io.leoflow.run_id",
  taskId: "io.leoflow.task_id",
  tryNumber: "io.leoflow.try_number",
  tiId: "io.leoflow.ti_id",
  staging: "io.leoflow.staging",
} as const;
