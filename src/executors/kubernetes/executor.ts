/**
 * KubernetesExecutor: runs each task instance try in its own pod (see buildPod for what the pod may do).
 * `execute` creates the try's token Secret, then the pod (owned by the Secret, so deleting the Secret takes
 * the pod along), and resolves once the API server accepted them; the agent in the pod reports the outcome
 * over RPC, and the KubernetesReconciler catches pods that ended without reporting. Every API problem
 * (unreachable, forbidden, timeout) is a rejected `execute` with a precise message: a dispatch failure the
 * dispatcher retries and then dead-letters.
 *
 * A try whose team's policy names a Kubernetes namespace (ExecutorRequest.namespace) gets its pod, Secret and
 * staging PVC there; the server's service account needs the same rights in that namespace (deploy/kubernetes),
 * and --k8s-task-secret / --k8s-ca-configmap, when set, must exist there too.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../../observability";
import type { TaskDefaults } from "../../domain";
import type { Executor, ExecutorRequest } from "../executor";
import type { KubeClient } from "./client";
import { KubeError } from "./errors";
import { labelValue } from "./names";
import { buildPod } from "./pod";
import { LABEL, MANAGED_BY, type KubernetesSettings } from "./settings";
import { errorMessage } from "../../domain";

export interface KubernetesExecutorOptions {
  kube: KubeClient;
  settings: KubernetesSettings;
  logger: Logger;
  /** The run's staging PVC in `namespace` (created when missing), or undefined when its DAG has no staging. */
  stagingFor?: (req: Pick<ExecutorRequest, "team" | "dagId" | "runId">, namespace: string) => Promise<string | undefined>;
  /** Namespaces besides the executor's own that tries may run in (teams' policies): cancel looks there too. */
  extraNamespaces?: () => Promise<string[]>;
}

export class KubernetesExecutor implements Executor {
  readonly name = "kubernetes";

  constructor(private readonly opts: KubernetesExecutorOptions) {}

  get taskDefaults(): TaskDefaults {
    const { defaultImage, defaultCpu, defaultMemory } = this.opts.settings;
    return { image: defaultImage, cpu: defaultCpu, memory: defaultMemory };
  }

  async execute(req: ExecutorRequest): Promise<void> {
    const { settings, logger } = this.opts;
    const kube = this.kubeIn(req.namespace);
    const stagingPvc = await this.opts.stagingFor?.(req, kube.namespace);
    const built = buildPod(req, settings, { stagingPvc });
    // A retry or a clear: whatever is left of an earlier try goes first (one try at a time).
    if (req.tryNumber > 1) await this.deleteEarlierTries(kube, req);
    const secret = await this.putSecret(kube, built.secret);
    built.pod.metadata!.ownerReferences = [{ apiVersion: "v1", kind: "Secret", name: built.name, uid: secret.metadata!.uid! }];
    try {
      await kube.createPod(built.pod);
    } catch (e) {
      if (e instanceof KubeError && e.status === 409) return this.existingPod(kube, built.name, built.pod);
      await kube.deleteSecret(built.name).catch(() => {});
      throw new KubeError(`task ${req.taskId}: ${errorMessage(e)}`, (e as KubeError).status ?? 0);
    }
    logger.debug("pod created", {
      pod: built.name,
      namespace: kube.namespace,
      image: built.pod.spec!.containers[0]!.image,
      ti_id: req.taskInstanceId,
      try_number: req.tryNumber,
    });
  }

  /**
   * Deletes the try's pod (SIGTERM; the agent stops the task and reports; SIGKILL after the grace) and its
   * Secret, in whichever namespace it runs.
   */
  async cancel(taskInstanceId: number, tryNumber: number): Promise<void> {
    const selector = this.selector({ [LABEL.tiId]: String(taskInstanceId), [LABEL.try]: String(tryNumber) });
    const namespaces = new Set([this.opts.kube.namespace, ...((await this.opts.extraNamespaces?.()) ?? [])]);
    await Promise.all(
      [...namespaces].map(async (ns) => {
        const { pods } = await this.opts.kube.inNamespace(ns).listPods(selector);
        await Promise.all(pods.map((p) => this.deletePodAndSecret(p.metadata!.name!, ns)));
      }),
    );
  }

  /** Pods keep running across a server restart and report when it is back, like subprocess agents. */
  async close(): Promise<void> {}

  /** Deletes a pod with the configured grace, then its token Secret (same name); `namespace` absent: the executor's. */
  async deletePodAndSecret(name: string, namespace?: string): Promise<void> {
    const kube = this.kubeIn(namespace);
    await kube.deletePod(name, this.opts.settings.podGraceSeconds);
    await kube.deleteSecret(name);
  }

  private kubeIn(namespace: string | undefined): KubeClient {
    return namespace ? this.opts.kube.inNamespace(namespace) : this.opts.kube;
  }

  private async deleteEarlierTries(kube: KubeClient, req: ExecutorRequest): Promise<void> {
    const { pods } = await kube.listPods(this.selector({ [LABEL.tiId]: String(req.taskInstanceId) }));
    const earlier = pods.filter((p) => Number(p.metadata?.labels?.[LABEL.try]) < req.tryNumber);
    await Promise.all(
      earlier.map(async (p) => {
        if (p.status?.phase === "Running" || p.status?.phase === "Pending")
          this.opts.logger.warn("an earlier try of this task instance still has a live pod; deleting it before the next try starts", {
            pod: p.metadata?.name,
            task_id: req.taskId,
            running_try: p.metadata?.labels?.[LABEL.try],
            next_try: req.tryNumber,
          });
        await this.deletePodAndSecret(p.metadata!.name!, kube.namespace);
      }),
    );
  }

  /** Creates the token Secret; a re-dispatch of the same try replaces the one it left (with the new token). */
  private async putSecret(kube: KubeClient, body: Parameters<KubeClient["createSecret"]>[0]) {
    try {
      return await kube.createSecret(body);
    } catch (e) {
      if (!(e instanceof KubeError && e.status === 409)) throw e;
      return kube.replaceSecret(body);
    }
  }

  /**
   * The pod name is taken: a re-dispatch of the same try. A live pod of this try is kept; an ended one is
   * deleted and the launch fails, so the dispatcher retries once it is gone. Another try's or another
   * install's pod is never adopted or deleted.
   */
  private async existingPod(kube: KubeClient, name: string, wanted: V1Pod): Promise<void> {
    const existing = await kube.readPod(name);
    if (!existing) throw new KubeError(`pod ${name} was being replaced while this try was launched; the launch is retried`, 409);
    const theirs = existing.metadata?.labels ?? {};
    const mismatch = [LABEL.instance, LABEL.tiId, LABEL.try].find((l) => theirs[l] !== wanted.metadata!.labels![l]);
    if (mismatch)
      throw new KubeError(
        `a pod named ${name} already exists in namespace ${kube.namespace} but is not this try's (its ${mismatch} label is ${JSON.stringify(theirs[mismatch] ?? null)}, expected ${JSON.stringify(wanted.metadata!.labels![mismatch])}); delete it (kubectl delete pod ${name})`,
        409,
      );
    const phase = existing.status?.phase ?? "Pending";
    if ((phase === "Pending" || phase === "Running") && !existing.metadata?.deletionTimestamp) {
      this.opts.logger.warn("the pod of this try already exists and is live; not creating another", { pod: name, phase });
      return;
    }
    await kube.deletePod(name, 0);
    throw new KubeError(
      `pod ${name} of an earlier launch of this try has ended (${phase}); it is being deleted and the launch is retried`,
      409,
    );
  }

  private selector(extra: Record<string, string>): string {
    const all = { [LABEL.managedBy]: MANAGED_BY, [LABEL.instance]: labelValue(this.opts.settings.instance), ...extra };
    return Object.entries(all)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
  }
}
