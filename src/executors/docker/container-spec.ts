/**
 * buildContainerSpec: the Docker Engine `POST /containers/create` body for one task instance try. Pure, so
 * the security defaults are table-tested without an engine:
 * - the leoflow binary bind-mounted read-only and `leoflow agent` as the entrypoint;
 * - not privileged, every capability dropped, no-new-privileges, read-only root with a tmpfs /tmp,
 *   a non-root user (settings.user), CPU, memory and process-count limits always set;
 * - no host mount but the agent binary and the run's staging volume.
 *
 * @example buildContainerSpec(req, settings).body.HostConfig.Memory // 536870912 for the default "512Mi"
 */
// Bun.CryptoHasher, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server ~5 ms
// of every start (test/architecture/startup-graph.test.ts).
import { DEFAULT_TEAM, ValidationError, type TaskSpec } from "../../domain";
import type { ExecutorRequest } from "../executor";
import { parseMemoryBytes, parseNanoCpus } from "./quantities";
import { AGENT_SETTINGS_ENV } from "../../domain";
import { AGENT_PATH_IN_CONTAINER, LABEL, STAGING_MOUNT, type DockerSettings, type PullPolicy } from "./settings";

export interface ContainerCreateBody {
  Image: string;
  Entrypoint: string[];
  Cmd: string[];
  Env: string[];
  User?: string;
  WorkingDir: string;
  Labels: Record<string, string>;
  HostConfig: {
    Binds: string[];
    Mounts: { Type: "volume"; Source: string; Target: string; ReadOnly: boolean }[];
    NetworkMode: string;
    Privileged: false;
    CapDrop: string[];
    SecurityOpt: string[];
    ReadonlyRootfs: boolean;
    Tmpfs: Record<string, string>;
    Memory: number;
    MemorySwap: number;
    MemoryReservation?: number;
    NanoCpus: number;
    PidsLimit: number;
    AutoRemove: false;
  };
}

export interface ContainerSpec {
  name: string;
  image: string;
  pullPolicy: PullPolicy;
  body: ContainerCreateBody;
}

export interface ContainerSpecOptions {
  /** Name of the run's staging volume, when the DAG enables staging. */
  stagingVolume?: string;
}

export function buildContainerSpec(req: ExecutorRequest, settings: DockerSettings, opts: ContainerSpecOptions = {}): ContainerSpec {
  const task = req.task;
  const image = task.image ?? settings.defaultImage;
  if (!image)
    throw new ValidationError(
      `task ${task.task_id}: no image to run it in; set image on the task or in default_args, or start the server with --docker-default-image`,
    );
  const limits = resourceLimits(task, settings);
  const passthrough = settings.passthroughEnv ?? {};
  // Only what the task may see (task-env.ts): its env, the operator's passthrough names, its own LEOFLOW_*.
  const env: Record<string, string> = {
    ...passthrough,
    ...(Object.keys(passthrough).length ? { [AGENT_SETTINGS_ENV.passthrough]: Object.keys(passthrough).join(",") } : {}),
    ...(task.env ?? {}),
    HOME: "/tmp",
    TMPDIR: "/tmp",
    LEOFLOW_SERVER: req.controlPlaneUrl,
    LEOFLOW_AGENT_TOKEN: req.agentToken,
    ...(opts.stagingVolume ? { LEOFLOW_STAGING_DIR: STAGING_MOUNT } : {}),
  };
  return {
    name: containerName(req, settings.instance),
    image,
    pullPolicy: task.image_pull_policy ?? settings.pullPolicy,
    body: {
      Image: image,
      Entrypoint: [AGENT_PATH_IN_CONTAINER],
      Cmd: ["agent"],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...(settings.user ? { User: settings.user } : {}),
      WorkingDir: "/tmp",
      Labels: containerLabels(req, settings.instance),
      HostConfig: {
        Binds: [`${settings.agentBinary}:${AGENT_PATH_IN_CONTAINER}:ro`],
        Mounts: opts.stagingVolume ? [{ Type: "volume", Source: opts.stagingVolume, Target: STAGING_MOUNT, ReadOnly: false }] : [],
        NetworkMode: settings.network,
        Privileged: false,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        ReadonlyRootfs: true,
        // /tmp holds the agent's return-value file and the task's scratch files; it counts against memory.
        Tmpfs: { "/tmp": "rw,nosuid,nodev,mode=1777" },
        Memory: limits.memory,
        // Equal to Memory: no swap, so the limit is the limit.
        MemorySwap: limits.memory,
        ...(limits.memoryReservation ? { MemoryReservation: limits.memoryReservation } : {}),
        NanoCpus: limits.nanoCpus,
        PidsLimit: settings.pidsLimit,
        AutoRemove: false,
      },
    },
  };
}

export function containerLabels(
  req: Pick<ExecutorRequest, "dagId" | "runId" | "taskId" | "tryNumber" | "taskInstanceId">,
  instance: string,
): Record<string, string> {
  return {
    [LABEL.managed]: "true",
    [LABEL.instance]: instance,
    [LABEL.dagId]: req.dagId,
    [LABEL.runId]: req.runId,
    [LABEL.taskId]: req.taskId,
    [LABEL.tryNumber]: String(req.tryNumber),
    [LABEL.tiId]: String(req.taskInstanceId),
  };
}

/**
 * A readable, unique, engine-valid name: `leoflow-<instance>-<dag>-<task>-<ti id>-<try>`. The instance (a
 * short digest naming the store, see DockerSettings.instance) keeps two installs on one engine, or a store
 * reset to ti id 1, from ever claiming each other's names; ids are sanitised and cut so the whole stays under
 * 128 characters (the ti id and try keep it unique).
 */
export function containerName(req: Pick<ExecutorRequest, "dagId" | "taskId" | "tryNumber" | "taskInstanceId">, instance: string): string {
  const clean = (s: string, max: number) => s.replace(/[^a-zA-Z0-9_.-]/g, "_").slice(0, max);
  return `leoflow-${clean(instance, 12)}-${clean(req.dagId, 45)}-${clean(req.taskId, 45)}-${req.taskInstanceId}-${req.tryNumber}`;
}

/** Deterministic volume name of a run's staging area: stable across retries and re-runs of the same run. */
export function stagingVolumeName(team: string, dagId: string, runId: string): string {
  // Two teams' runs may share a DAG id and run id: the team is in the digest, except for the default team,
  // whose volumes keep the names they had before teams.
  const key = team === DEFAULT_TEAM ? `${dagId}\0${runId}` : `${team}\0${dagId}\0${runId}`;
  const digest = new Bun.CryptoHasher("sha256").update(key).digest("hex").slice(0, 16);
  return `leoflow-staging-${dagId.replace(/[^a-zA-Z0-9_.-]/g, "_").slice(0, 40)}-${digest}`;
}

export interface ResolvedLimits {
  memory: number;
  memoryReservation?: number;
  nanoCpus: number;
}

/** limits.X, then X, then requests.X, then the platform default: a container never runs unlimited. */
export function resourceLimits(
  task: Pick<TaskSpec, "task_id" | "resources">,
  settings: Pick<DockerSettings, "defaultCpu" | "defaultMemory">,
): ResolvedLimits {
  const r = task.resources ?? {};
  const memoryQ = r.limits?.memory ?? r.memory ?? r.requests?.memory ?? settings.defaultMemory;
  const cpuQ = r.limits?.cpu ?? r.cpu ?? r.requests?.cpu ?? settings.defaultCpu;
  const memory = parseMemoryBytes(memoryQ);
  const nanoCpus = parseNanoCpus(cpuQ);
  const where = `task ${task.task_id}: resources`;
  if (memory === null)
    throw new ValidationError(`${where}: memory ${JSON.stringify(memoryQ)} is not a quantity; write e.g. "512Mi" or "1Gi"`);
  if (nanoCpus === null) throw new ValidationError(`${where}: cpu ${JSON.stringify(cpuQ)} is not a quantity; write e.g. "500m" or 2`);
  // Engines refuse limits under 6 MiB; say so here rather than as a 500 from the engine.
  if (memory < 6 * 2 ** 20) throw new ValidationError(`${where}: memory ${JSON.stringify(memoryQ)} is below the 6Mi engines accept`);
  const reservation = r.requests?.memory !== undefined ? parseMemoryBytes(r.requests.memory) : null;
  return { memory, nanoCpus, ...(reservation && reservation <= memory ? { memoryReservation: reservation } : {}) };
}
