/**
 * DockerReconciler: runs at start-up and then periodically. It fails the task instances whose container
 * ended without the agent reporting (with the exit code or OOMKilled as the reason, and the container's last
 * log lines appended to the task's log), removes finished containers after a grace period, removes the
 * containers of tries that are already over at start-up, and reclaims staging volumes of finished runs.
 * The decisions are pure (reconcile-rules.ts); this is the I/O around them. It never throws out of a pass:
 * an unreachable engine is logged and the next pass tries again.
 */
import type { DagRunRecord, LogLineRecord, TaskInstanceRecord, TaskTransition } from "../../domain";
import type { Logger } from "../../observability";
import { failLiveTry } from "../fail-live-try";
import type { DockerClient, ContainerInspect } from "./client";
import { demuxLogLines } from "./log-stream";
import { decideContainer, decideStagingVolume, type ContainerFacts } from "./reconcile-rules";
import { LABEL } from "./settings";
import { appendToTryLog, DEFAULT_TEAM, errorMessage, toError } from "../../domain";

/** What the reconciler needs from the store (the Store satisfies it). */
export interface DockerReconcilerPort {
  getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null>;
  applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]>;
  lastLogSeq(tiId: number, tryNumber: number): Promise<number>;
  appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void>;
  /** The run a staging volume belongs to (in the volume's team). */
  getDagRun(team: string, dagId: string, runId: string): Promise<DagRunRecord | null>;
  /** Records a staging volume's deletion and why (the store's staging_volumes; absent in tests that need none). */
  markStagingVolumeDeleted?(executor: string, name: string, reason: string, now: Date): Promise<boolean>;
}

export interface DockerReconcilerOptions {
  client: DockerClient;
  store: DockerReconcilerPort;
  logger: Logger;
  /** Only containers and volumes with this io.leoflow.instance label are this server's. */
  instance: string;
  /** How long a finished container is kept (for `docker logs`) before it is removed. */
  graceMs: number;
  /** How long a failed run's staging volume is kept. */
  stagingTtlMs: number;
  /** Called with the dag_run id of a task instance it failed, so the scheduler plans that run at once. */
  onTaskFailed?: (dagRunId: number) => void;
  /** Container log lines kept when a container ended without reporting. Default 50. */
  logTailLines?: number;
}

export interface ReconcileReport {
  failed: number;
  removed: number;
  volumesRemoved: number;
}

export class DockerReconciler {
  private timer: Timer | null = null;
  private running: Promise<ReconcileReport> | null = null;
  private unreachableSince: string | null = null;

  constructor(private readonly opts: DockerReconcilerOptions) {}

  /** One pass at start-up (removing leftovers of finished tries), then one every `intervalMs`. */
  start(intervalMs: number): void {
    if (this.timer) return;
    void this.reconcile(new Date(), { startup: true });
    this.timer = setInterval(() => void this.reconcile(new Date()), intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass; concurrent calls share the pass in flight. */
  reconcile(now: Date, opts: { startup?: boolean } = {}): Promise<ReconcileReport> {
    this.running ??= this.pass(now, opts.startup ?? false).finally(() => (this.running = null));
    return this.running;
  }

  private async pass(now: Date, startup: boolean): Promise<ReconcileReport> {
    const report: ReconcileReport = { failed: 0, removed: 0, volumesRemoved: 0 };
    const { client, logger } = this.opts;
    try {
      const containers = await client.listContainers([`${LABEL.managed}=true`, `${LABEL.instance}=${this.opts.instance}`]);
      for (const summary of containers) {
        if (!summary.Labels?.[LABEL.tiId]) continue;
        try {
          await this.reconcileContainer(summary.Id, now, startup, report);
        } catch (e) {
          logger.warn("reconciling a task container failed; will retry", { container: summary.Names?.[0], error: toError(e) });
        }
      }
      await this.reclaimVolumes(now, report);
      if (this.unreachableSince) logger.info("docker engine is reachable again", { host: client.host });
      this.unreachableSince = null;
    } catch (e) {
      const message = errorMessage(e);
      if (this.unreachableSince !== message) logger.error("docker reconciler pass failed", { error: message });
      this.unreachableSince = message;
    }
    if (report.failed || report.removed || report.volumesRemoved) logger.info("docker reconciler pass", { ...report });
    return report;
  }

  private async reconcileContainer(id: string, now: Date, startup: boolean, report: ReconcileReport): Promise<void> {
    const { client, store } = this.opts;
    const info = await client.inspectContainer(id);
    if (!info) return;
    const facts = containerFacts(info);
    const tiId = Number(info.Config.Labels?.[LABEL.tiId]);
    const ti = Number.isSafeInteger(tiId) ? await store.getTaskInstanceById(tiId) : null;
    const decision = decideContainer({ container: facts, ti, now, graceMs: this.opts.graceMs, startup });
    const name = info.Name.replace(/^\//, "");
    if (decision.action === "keep") return;
    if (decision.action === "fail" && ti) {
      await this.keepLastLines(id, ti.id, facts.tryNumber, decision.reason);
      const log = { logger: this.opts.logger, where: { container: name }, onFailed: this.opts.onTaskFailed };
      if (await failLiveTry(store, ti, facts.tryNumber, decision.reason, now, log)) report.failed++;
      if (!decision.remove) return;
    }
    if (decision.action === "remove" && decision.stopFirst) await client.stopContainer(id, 5);
    await client.removeContainer(id, true);
    report.removed++;
    this.opts.logger.debug("removed task container", { container: name, why: decision.action === "remove" ? decision.why : "failed" });
  }

  /** Appends the container's last log lines (and why it ended) to the try's log, after what the agent shipped. */
  private async keepLastLines(containerId: string, tiId: number, tryNumber: number, reason: string): Promise<void> {
    const { client, store } = this.opts;
    const lines = demuxLogLines(await client.containerLogs(containerId, this.opts.logTailLines ?? 50));
    const now = new Date();
    const header = lines.length ? `${reason}; its last ${lines.length} log lines follow` : `${reason}; it printed nothing`;
    await appendToTryLog(store, tiId, tryNumber, [
      { timestamp: now, stream: "executor", line: header },
      ...lines.map((l) => ({ timestamp: now, stream: l.stream, line: l.line })),
    ]);
  }

  private async reclaimVolumes(now: Date, report: ReconcileReport): Promise<void> {
    const { client, store } = this.opts;
    for (const v of await client.listVolumes(`${LABEL.instance}=${this.opts.instance}`)) {
      if (v.Labels?.[LABEL.staging] !== "true") continue;
      const dagId = v.Labels?.[LABEL.dagId];
      const runId = v.Labels?.[LABEL.runId];
      // A volume made before teams has no team label: it is the default team's.
      const team = v.Labels?.[LABEL.team] ?? DEFAULT_TEAM;
      const run = dagId && runId ? await store.getDagRun(team, dagId, runId) : null;
      const decision = decideStagingVolume(run, now, this.opts.stagingTtlMs);
      if (decision.remove && (await client.removeVolume(v.Name))) {
        report.volumesRemoved++;
        await store.markStagingVolumeDeleted?.("docker", v.Name, decision.why, now);
        this.opts.logger.info("removed staging volume", { volume: v.Name, why: decision.why });
      }
    }
  }
}

export function containerFacts(info: ContainerInspect): ContainerFacts {
  const finished = info.State.FinishedAt ? new Date(info.State.FinishedAt) : null;
  return {
    status: info.State.Status,
    exitCode: info.State.ExitCode,
    oomKilled: info.State.OOMKilled,
    error: info.State.Error ?? "",
    // Docker reports "0001-01-01T00:00:00Z" for a container that never finished.
    finishedAt: finished && finished.getUTCFullYear() > 2000 ? finished : null,
    tryNumber: Number(info.Config.Labels?.[LABEL.tryNumber] ?? 0),
    memoryLimit: info.HostConfig.Memory ?? 0,
  };
}
