/**
 * DockerExecutor: runs each task instance try in its own container (see buildContainerSpec for what the
 * container may do), started through the Docker Engine API. `execute` resolves once the container has
 * started; the agent inside reports the outcome over RPC, and the DockerReconciler catches containers that
 * ended without reporting. Every engine problem is a rejected `execute` (a dispatch failure) with a precise
 * message, never a crash.
 */
import type { Logger } from "../../observability";
import type { TaskDefaults } from "../../domain";
import type { Executor, ExecutorRequest } from "../executor";
import { DockerApiError, type DockerClient } from "./client";
import { buildContainerSpec, stagingVolumeName, type ContainerCreateBody } from "./container-spec";
import { LABEL, type DockerSettings, type PullPolicy } from "./settings";
import { errorMessage } from "../../domain";

export interface DockerExecutorOptions {
  client: DockerClient;
  settings: DockerSettings;
  logger: Logger;
  /** Whether the DAG run of this request has staging enabled (looked up from the pinned DAG version). */
  stagingEnabled?: (team: string, dagId: string, runId: string) => Promise<boolean>;
  /** Records a run's staging volume in the store (table staging_volumes, executor "docker") once it exists. */
  recordStaging?: (volume: { name: string; team: string; dag_id: string; run_id: string }) => Promise<unknown>;
  /** Seconds between SIGTERM and SIGKILL when a container is cancelled. Default 10. */
  stopTimeoutSeconds?: number;
}

export class DockerExecutor implements Executor {
  readonly name = "docker";
  /** Images known present, so if_not_present costs one inspect per image, not per task. */
  private readonly present = new Set<string>();

  constructor(private readonly opts: DockerExecutorOptions) {}

  get taskDefaults(): TaskDefaults {
    const { defaultImage, defaultCpu, defaultMemory } = this.opts.settings;
    return { image: defaultImage, cpu: defaultCpu, memory: defaultMemory };
  }

  async execute(req: ExecutorRequest): Promise<void> {
    const { client, settings } = this.opts;
    const staging = (await this.opts.stagingEnabled?.(req.team, req.dagId, req.runId))
      ? stagingVolumeName(req.team, req.dagId, req.runId)
      : undefined;
    const spec = buildContainerSpec(req, settings, { stagingVolume: staging });
    await this.ensureImage(spec.image, spec.pullPolicy, req.taskId);
    if (staging) await this.ensureStagingVolume(staging, req.team, req.dagId, req.runId);
    // A retry or a clear: whatever still runs of an earlier try goes first (one try at a time).
    if (req.tryNumber > 1) await this.stopEarlierTries(req);
    const id = await this.create(spec.name, spec.body);
    if (id === null) return;
    try {
      await client.startContainer(id);
    } catch (e) {
      await client.removeContainer(id, true).catch(() => {});
      throw new Error(`task ${req.taskId}: starting container ${spec.name} (image ${spec.image}) failed: ${errorMessage(e)}`);
    }
    this.opts.logger.debug("container started", {
      container: spec.name,
      id: id.slice(0, 12),
      image: spec.image,
      ti_id: req.taskInstanceId,
    });
  }

  /** Stops the try's container (SIGTERM; the agent stops the task and reports), SIGKILL after the timeout. */
  async cancel(taskInstanceId: number, tryNumber: number): Promise<void> {
    const found = await this.opts.client.listContainers([
      `${LABEL.instance}=${this.opts.settings.instance}`,
      `${LABEL.tiId}=${taskInstanceId}`,
      `${LABEL.tryNumber}=${tryNumber}`,
    ]);
    await Promise.all(
      found.filter((c) => c.State === "running").map((c) => this.opts.client.stopContainer(c.Id, this.opts.stopTimeoutSeconds ?? 10)),
    );
  }

  /**
   * Stops and removes this instance's containers of earlier tries of the task instance. Their tries are over
   * in the store (a retry is planned only after the try failed), so the reconciler has nothing left to read.
   */
  private async stopEarlierTries(req: ExecutorRequest): Promise<void> {
    const { client, settings, logger } = this.opts;
    const found = await client.listContainers([`${LABEL.instance}=${settings.instance}`, `${LABEL.tiId}=${req.taskInstanceId}`]);
    const earlier = found.filter((c) => Number(c.Labels?.[LABEL.tryNumber]) < req.tryNumber);
    await Promise.all(
      earlier.map(async (c) => {
        if (c.State === "running") {
          logger.warn("an earlier try of this task instance is still running; stopping its container before the next try starts", {
            container: c.Names?.[0]?.replace(/^\//, ""),
            task_id: req.taskId,
            running_try: c.Labels?.[LABEL.tryNumber],
            next_try: req.tryNumber,
          });
          await client.stopContainer(c.Id, this.opts.stopTimeoutSeconds ?? 10);
        }
        await client.removeContainer(c.Id, true);
      }),
    );
  }

  /** Containers keep running across a server restart and report when it is back, like subprocess agents. */
  async close(): Promise<void> {}

  private async ensureImage(image: string, policy: PullPolicy, taskId: string): Promise<void> {
    const { client } = this.opts;
    if (policy !== "always" && this.present.has(image)) return;
    if (policy !== "always" && (await client.imageExists(image))) {
      this.present.add(image);
      return;
    }
    if (policy === "never")
      throw new Error(
        `task ${taskId}: image ${image} is not on the docker engine at ${client.host} and image_pull_policy is "never"; load it there (docker load / podman import) or use if_not_present`,
      );
    try {
      await client.pullImage(image);
    } catch (e) {
      throw new Error(
        `task ${taskId}: image ${image} is not on the docker engine and could not be pulled (image_pull_policy "${policy}"): ${errorMessage(e)}`,
      );
    }
    if (!(await client.imageExists(image)))
      throw new Error(
        `task ${taskId}: image ${image} could not be pulled: the engine reported no error but has no such image; check the name and tag`,
      );
    this.present.add(image);
  }

  /**
   * Creates the container; on a name clash (a re-dispatch of the same try) replaces a stale one, keeps a live
   * one. A clash with a container that is not this try's (other labels) is refused, never adopted or removed.
   */
  private async create(name: string, body: ContainerCreateBody): Promise<string | null> {
    const { client } = this.opts;
    try {
      return await client.createContainer(name, body);
    } catch (e) {
      if (!isNameClash(e)) throw e;
    }
    const existing = await client.inspectContainer(name);
    const theirs = existing?.Config.Labels ?? {};
    const mismatch = [LABEL.instance, LABEL.tiId, LABEL.tryNumber].find((l) => existing && theirs[l] !== body.Labels[l]);
    if (mismatch)
      throw new Error(
        `a container named ${name} already exists on the docker engine but is not this try's (its ${mismatch} label is ${JSON.stringify(theirs[mismatch] ?? null)}, expected ${JSON.stringify(body.Labels[mismatch])}); remove it (docker rm -f ${name})`,
      );
    if (existing?.State.Running) {
      this.opts.logger.warn("container for this try is already running; not starting another", { container: name });
      return null;
    }
    await client.removeContainer(name, true);
    return client.createContainer(name, body);
  }

  private async ensureStagingVolume(name: string, team: string, dagId: string, runId: string): Promise<void> {
    const labels = {
      [LABEL.managed]: "true",
      [LABEL.instance]: this.opts.settings.instance,
      [LABEL.staging]: "true",
      [LABEL.team]: team,
      [LABEL.dagId]: dagId,
      [LABEL.runId]: runId,
    };
    // Tasks run as a non-root user; podman can create the volume owned by it (Docker ignores unknown options
    // only for its local driver with a type, so they are sent to podman alone).
    const opts: Record<string, string> = this.opts.settings.user && (await this.isPodman()) ? { o: uidGid(this.opts.settings.user) } : {};
    try {
      await this.opts.client.createVolume(name, labels, opts);
    } catch (e) {
      if (!(e instanceof DockerApiError) || e.status !== 409) throw e;
    }
    await this.opts.recordStaging?.({ name, team, dag_id: dagId, run_id: runId });
  }

  private podman: boolean | undefined;
  private async isPodman(): Promise<boolean> {
    this.podman ??= (await this.opts.client.version()).toLowerCase().includes("podman");
    return this.podman;
  }
}

/** Docker answers a taken name with 409; podman 4 with 500 "… is already in use". */
function isNameClash(e: unknown): boolean {
  return e instanceof DockerApiError && (e.status === 409 || (e.status === 500 && e.message.includes("already in use")));
}

function uidGid(user: string): string {
  const [uid, gid] = user.split(":");
  return `uid=${uid},gid=${gid ?? uid}`;
}
