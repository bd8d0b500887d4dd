/**
 * KubernetesReconciler (runs on the leader only; idempotent): catches task pods that ended without their
 * agent reporting, and cleans up after pods. It lists the pods of this instance, then WATCHES them, so a
 * pod's end is handled as soon as the API server sends it; a slow resync lists everything again in case an
 * event was missed, and reclaims staging PVCs and token Secrets left without a pod. What to do with a pod is
 * decided by reconcileDecision (pure); this is the I/O around it. It never throws out of a pass: an API
 * server that does not answer is logged once, and the next pass tries again.
 *
 * Teams' namespaces (their policies' kubernetes_namespace): every resync lists pods and Secrets there too;
 * the watch covers the executor's own namespace only, so a pod in a team namespace that ends without
 * reporting is caught by the next resync (--k8s-resync) rather than at once.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { LogLineRecord, TaskInstanceRecord, TaskTransition } from "../../domain";
import { appendToTryLog, toError, errorMessage } from "../../domain";
import type { Logger } from "../../observability";
import { failLiveTry } from "../fail-live-try";
import type { KubeClient } from "./client";
import { labelValue } from "./names";
import { podFacts, reconcileDecision } from "./reconcile-rules";
import { LABEL, MANAGED_BY } from "./settings";
import type { StagingVolumes } from "./staging";

/** The store calls the reconciler makes (the Store satisfies it). */
export interface ReconcilerStorePort {
  getTaskInstanceById(id: number): Promise<TaskInstanceRecord | null>;
  applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]>;
  lastLogSeq(tiId: number, tryNumber: number): Promise<number>;
  appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void>;
}

export interface KubernetesReconcilerOptions {
  kube: KubeClient;
  store: ReconcilerStorePort;
  logger: Logger;
  /** Only objects labelled with this instance are this server's. */
  instance: string;
  /** Deletes a pod and its token Secret in `namespace` (the executor's way, with its grace). */
  deletePod: (name: string, namespace: string) => Promise<void>;
  /** Namespaces besides the client's that task pods may run in (teams' policies); listed on every resync. */
  extraNamespaces?: () => Promise<string[]>;
  /** How long a finished pod is kept (for kubectl logs) before it is deleted. */
  graceMs: number;
  /** How long a pod may be stuck in image pull or container creation before its try fails. */
  pendingLimitMs: number;
  /** Whether this replica leads; followers neither watch nor act. Default: always. */
  isLeader?: () => boolean;
  staging?: StagingVolumes;
  onTaskFailed?: (dagRunId: number) => void;
  /** Container log lines kept when a pod ended without reporting. Default 50. */
  logTailLines?: number;
  now?: () => Date;
}

export interface ReconcileReport {
  failed: number;
  deleted: number;
}

export class KubernetesReconciler {
  private timer: Timer | null = null;
  private watch: { stop(): void } | null = null;
  private watching = false;
  private stopped = true;
  /** The next pass is a start-up pass: at start, and after this replica was a follower. */
  private startupPending = true;
  private lastError: string | null = null;
  private readonly perPod = new Map<string, Promise<void>>();
  private resyncing: Promise<ReconcileReport> | null = null;
  private readonly now: () => Date;

  constructor(private readonly o: KubernetesReconcilerOptions) {
    this.now = o.now ?? (() => new Date());
  }

  private get selector(): string {
    return `${LABEL.managedBy}=${MANAGED_BY},${LABEL.instance}=${labelValue(this.o.instance)}`;
  }

  /** Starts watching (when leading) and resyncs every `resyncMs`; the first pass removes leftovers of finished tries. */
  start(resyncMs: number): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
    this.timer = setInterval(() => this.tick(), resyncMs);
  }

  /**
   * The leader campaign's news: a new leader reconciles at once (a start-up pass, then the watch) rather than
   * at the next resync, since the old leader's pods may have ended unseen; a follower stops watching.
   */
  leadershipChanged(leading: boolean): void {
    if (this.stopped) return;
    if (leading) this.tick();
    else {
      this.stopWatch();
      this.startupPending = true;
    }
  }

  private tick(): void {
    if (!this.leading) {
      this.stopWatch();
      this.startupPending = true; // a replica that becomes leader again starts with a start-up pass
      return;
    }
    const startup = this.startupPending;
    this.startupPending = false;
    void this.resync({ startup }).then(() => this.ensureWatch());
  }

  private get leading(): boolean {
    return this.o.isLeader?.() ?? true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopWatch();
    await this.resyncing;
    await Promise.all(this.perPod.values());
  }

  /** One full pass over this instance's pods (and staging PVCs and orphan Secrets); concurrent calls share it. */
  resync(opts: { startup?: boolean } = {}): Promise<ReconcileReport> {
    this.resyncing ??= this.pass(opts.startup ?? false).finally(() => (this.resyncing = null));
    return this.resyncing;
  }

  private async pass(startup: boolean): Promise<ReconcileReport> {
    const report: ReconcileReport = { failed: 0, deleted: 0 };
    if (!this.leading) return report; // followers never act, even when asked directly
    try {
      for (const namespace of await this.namespaces()) {
        const kube = this.o.kube.inNamespace(namespace);
        const { pods } = await kube.listPods(this.selector);
        await Promise.all(pods.map((p) => this.handle(p, startup, report)));
        await this.removeOrphanSecrets(kube, new Set(pods.map((p) => p.metadata?.name ?? "")));
      }
      await this.o.staging?.collect(this.now());
      if (this.lastError) this.o.logger.info("the Kubernetes API server answers again", { server: this.o.kube.server });
      this.lastError = null;
    } catch (e) {
      this.reportError("kubernetes reconciler pass failed; will retry", e);
    }
    if (report.failed || report.deleted) this.o.logger.info("kubernetes reconciler pass", { ...report, startup });
    return report;
  }

  /** The executor's namespace first, then the teams' (a failing lookup of those is logged; the main one still goes). */
  private async namespaces(): Promise<string[]> {
    let extra: string[] = [];
    try {
      extra = (await this.o.extraNamespaces?.()) ?? [];
    } catch (e) {
      this.reportError("listing the teams' Kubernetes namespaces failed; reconciling the executor's namespace only", e);
    }
    return [...new Set([this.o.kube.namespace, ...extra])];
  }

  private async ensureWatch(): Promise<void> {
    if (this.watching || this.stopped || !this.leading) return;
    this.watching = true;
    try {
      const { pods, resourceVersion } = await this.o.kube.listPods(this.selector);
      await Promise.all(pods.map((p) => this.handle(p, false)));
      this.watch = await this.o.kube.watchPods(
        this.selector,
        resourceVersion,
        (event) => {
          if (event.type === "ERROR")
            this.o.logger.debug("pod watch ended by the API server", { status: event.status, message: event.message });
          else if (event.type !== "DELETED" && this.leading) void this.handle(event.pod, false);
        },
        (err) => {
          this.watch = null;
          this.watching = false;
          if (err && toError(err).name !== "AbortError") this.reportError("pod watch failed; resuming", err);
          // The server ends watches every few seconds by design: resume at once, or after a pause on errors.
          if (!this.stopped) setTimeout(() => void this.ensureWatch(), err ? 1000 : 0);
        },
      );
    } catch (e) {
      this.watching = false;
      this.reportError("starting the pod watch failed; the next resync tries again", e);
    }
  }

  private stopWatch(): void {
    const w = this.watch;
    this.watch = null;
    w?.stop();
  }

  /** One pod at a time per name: a watch event and a resync never act on the same pod twice at once. */
  private handle(pod: V1Pod, startup: boolean, report?: ReconcileReport): Promise<void> {
    const name = `${this.namespaceOf(pod)}/${pod.metadata?.name ?? ""}`;
    const prev = this.perPod.get(name) ?? Promise.resolve();
    const next = prev
      .then(() => this.reconcilePod(pod, startup, report ?? { failed: 0, deleted: 0 }))
      .catch((e) => this.o.logger.warn("reconciling a task pod failed; will retry", { pod: name, error: toError(e) }))
      .finally(() => {
        if (this.perPod.get(name) === next) this.perPod.delete(name);
      });
    this.perPod.set(name, next);
    return next;
  }

  private namespaceOf(pod: V1Pod): string {
    return pod.metadata?.namespace ?? this.o.kube.namespace;
  }

  private async reconcilePod(pod: V1Pod, startup: boolean, report: ReconcileReport): Promise<void> {
    const { store, logger } = this.o;
    const namespace = this.namespaceOf(pod);
    const facts = podFacts(pod);
    if (facts.tiId === null) return;
    const ti = await store.getTaskInstanceById(facts.tiId);
    const now = this.now();
    const decision = reconcileDecision(facts, ti, now, { graceMs: this.o.graceMs, pendingLimitMs: this.o.pendingLimitMs, startup });
    if (decision.action === "keep") return;
    if (decision.action === "fail" && ti) {
      await this.keepLastLines(namespace, facts.name, decision.logContainer, ti.id, facts.tryNumber, decision.reason);
      const log = { logger, where: { pod: facts.name }, onFailed: this.o.onTaskFailed };
      if (await failLiveTry(store, ti, facts.tryNumber, decision.reason, now, log)) report.failed++;
      if (!decision.delete) return;
    }
    await this.o.deletePod(facts.name, namespace);
    report.deleted++;
    logger.debug("deleted task pod", { pod: facts.name, namespace, why: decision.action === "delete" ? decision.why : "its try failed" });
  }

  /** Appends the pod's last log lines (and why it ended) to the try's log, after what the agent shipped. */
  private async keepLastLines(
    namespace: string,
    pod: string,
    container: string,
    tiId: number,
    tryNumber: number,
    reason: string,
  ): Promise<void> {
    const { store } = this.o;
    const text = await this.o.kube
      .inNamespace(namespace)
      .podLog(pod, container, this.o.logTailLines ?? 50)
      .catch(() => "");
    const lines = text.split("\n").filter((l, i, all) => l !== "" || i < all.length - 1);
    const now = this.now();
    const header = lines.length
      ? `${reason}; the last ${lines.length} log lines of container ${container} follow`
      : `${reason}; container ${container} printed nothing`;
    await appendToTryLog(store, tiId, tryNumber, [
      { timestamp: now, stream: "executor", line: header },
      ...lines.map((line) => ({ timestamp: now, stream: "stdout", line })),
    ]);
  }

  /** Token Secrets whose pod is gone (a launch that died between the two creates, a pod deleted by hand). */
  private async removeOrphanSecrets(kube: KubeClient, podNames: Set<string>): Promise<void> {
    const now = this.now().getTime();
    for (const s of await kube.listSecrets(this.selector)) {
      const name = s.metadata?.name;
      const created = s.metadata?.creationTimestamp ? new Date(s.metadata.creationTimestamp).getTime() : 0;
      // A launch creates the Secret just before its pod: leave young ones alone.
      if (!name || podNames.has(name) || now - created < this.o.graceMs) continue;
      await kube.deleteSecret(name);
      this.o.logger.info("deleted a token secret without a pod", { secret: name, namespace: kube.namespace });
    }
  }

  private reportError(what: string, e: unknown): void {
    const message = errorMessage(e) ?? String(e);
    if (this.lastError !== message) this.o.logger.error(what, { error: message });
    this.lastError = message;
  }
}
