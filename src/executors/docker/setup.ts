/**
 * createDockerExecution: everything `serve --executor=docker` needs, built from the operator's settings —
 * the executor, its reconciler, and the DAG admission check the DAG folder sync applies at load.
 * The composition root (app.ts) calls this and wires the pieces; nothing here reads flags.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ValidationError, type DagSpec, errorMessage } from "../../domain";
import type { Logger } from "../../observability";
import { DockerClient } from "./client";
import { DockerExecutor } from "./executor";
import { checkDockerPolicy, type PolicyIssue } from "./policy";
import { DockerReconciler, type DockerReconcilerPort } from "./reconciler";
import type { DockerPolicy, DockerSettings } from "./settings";

/** What the docker execution needs from the store: the reconciler's port, and DAG versions (is staging on?). */
export interface DockerSetupPort extends DockerReconcilerPort {
  getDagVersion(versionId: number): Promise<DagSpec | null>;
  recordStagingVolume(
    volume: { executor: string; team: string; name: string; dag_id: string; run_id: string },
    now: Date,
  ): Promise<boolean>;
}

export interface DockerSetupOptions {
  settings: Omit<DockerSettings, "agentBinary"> & { agentBinary?: string };
  policy: DockerPolicy;
  store: DockerSetupPort;
  logger: Logger;
  /** This program's binary when it is the compiled one (mounted into containers by default). */
  compiledBinary: string | null;
  removeGraceMs: number;
  reconcileIntervalMs: number;
  stagingTtlMs: number;
  onTaskFailed?: (dagRunId: number) => void;
}

export interface DockerExecution {
  executor: DockerExecutor;
  reconciler: DockerReconciler;
  /** Issues that refuse a DAG at load (image not allowed, resources above the caps). */
  admit(spec: DagSpec): PolicyIssue[];
  /** Checks the engine (an unreachable one is logged, not fatal) and starts the reconciler. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createDockerExecution(o: DockerSetupOptions): DockerExecution {
  const agentBinary = resolveAgentBinary(o.settings.agentBinary, o.compiledBinary);
  const settings: DockerSettings = { ...o.settings, agentBinary };
  const client = new DockerClient(settings.host);
  const versions = new Map<number, boolean>();
  const executor = new DockerExecutor({
    client,
    settings,
    logger: o.logger,
    stagingEnabled: async (team, dagId, runId) => {
      const run = await o.store.getDagRun(team, dagId, runId);
      if (!run) return false;
      let enabled = versions.get(run.version_id);
      if (enabled === undefined) {
        enabled = (await o.store.getDagVersion(run.version_id))?.staging?.enabled ?? false;
        versions.set(run.version_id, enabled);
      }
      return enabled;
    },
    recordStaging: (v) => o.store.recordStagingVolume({ executor: "docker", ...v }, new Date()),
  });
  const reconciler = new DockerReconciler({
    client,
    store: o.store,
    instance: settings.instance,
    logger: o.logger.child("reconciler"),
    graceMs: o.removeGraceMs,
    stagingTtlMs: o.stagingTtlMs,
    onTaskFailed: o.onTaskFailed,
  });
  return {
    executor,
    reconciler,
    admit: (spec) => checkDockerPolicy(spec, o.policy, settings, "docker"),
    async start() {
      try {
        o.logger.info("docker executor ready", {
          engine: await client.version(),
          host: settings.host,
          network: settings.network,
          user: settings.user || "image default",
          agent_binary: agentBinary,
          // Containers are named leoflow-<instance>-… and labelled io.leoflow.instance=<instance>.
          instance: settings.instance,
        });
      } catch (e) {
        o.logger.error("docker executor: " + errorMessage(e) + "; tasks fail to dispatch until it answers");
      }
      reconciler.start(o.reconcileIntervalMs);
    },
    stop: () => reconciler.stop(),
  };
}

function resolveAgentBinary(given: string | undefined, compiled: string | null): string {
  const path = given ? resolve(given) : compiled;
  if (!path)
    throw new ValidationError(
      "--executor=docker mounts the leoflow binary into each container, but this server runs from source; build it (bun scripts/build.ts) and pass --docker-agent-binary dist/leoflow",
    );
  if (!existsSync(path))
    throw new ValidationError(`--docker-agent-binary: ${path} does not exist; pass the path of the compiled leoflow binary`);
  return path;
}
