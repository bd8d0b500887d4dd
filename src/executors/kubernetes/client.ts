/**
 * KubeClient: the few Kubernetes API calls the executor, reconciler and staging need, through
 * `@kubernetes/client-node` (no hand-written API client). Every call has a timeout, so an API server that
 * hangs is a failed call, never a hung dispatch. Failures are KubeError with a message that says what was
 * asked, of which server, what it answered and how to fix it (RBAC for 401/403, the address for an
 * unreachable server).
 *
 * Loaded only when the kubernetes executor is chosen (setup.ts imports it lazily): the library takes a few
 * hundred milliseconds to load, which no other mode should pay at start.
 *
 * @example const kube = KubeClient.fromConfig({ kubeconfig: "~/.kube/config", namespace: "leoflow", timeoutMs: 10_000 })
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CoreV1Api,
  KubeConfig,
  ServerConfiguration,
  Watch,
  createConfiguration,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1Secret,
} from "@kubernetes/client-node";
import { errorMessage } from "../../domain";
import { KubeError } from "./errors";

export interface KubeClientOptions {
  /** A kubeconfig file; absent: in-cluster config when running in a pod, else KUBECONFIG / ~/.kube/config. */
  kubeconfig?: string;
  /** Namespace of everything this client touches; absent: the kubeconfig context's or the pod's, else "default". */
  namespace?: string;
  /** Longest any one call may take. */
  timeoutMs: number;
}

export type WatchEvent = { type: "ADDED" | "MODIFIED" | "DELETED"; pod: V1Pod } | { type: "ERROR"; status: number; message: string };

const IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export class KubeClient {
  readonly server: string;
  private readonly api: CoreV1Api;
  /** Clients of other namespaces (teams' kubernetes_namespace), made once each. */
  private readonly siblings = new Map<string, KubeClient>();

  constructor(
    private readonly kc: KubeConfig,
    readonly namespace: string,
    private readonly timeoutMs: number,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster)
      throw new KubeError("the kubeconfig names no current cluster; pass --kubeconfig with a current-context, or run in a pod", 0);
    this.server = cluster.server;
    const timeout = {
      pre: async (ctx: { setSignal(s: AbortSignal): void }) => (ctx.setSignal(AbortSignal.timeout(timeoutMs)), ctx),
      post: async <T>(r: T) => r,
    };
    this.api = new CoreV1Api(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: kc },
        promiseMiddleware: [timeout as never],
      }),
    );
  }

  static fromConfig(o: KubeClientOptions): KubeClient {
    const kc = new KubeConfig();
    try {
      if (o.kubeconfig) {
        if (!existsSync(o.kubeconfig)) throw new Error(`${o.kubeconfig} does not exist`);
        kc.loadFromFile(o.kubeconfig);
      } else {
        // With nothing to load, the client library falls back to http://localhost:8080 and then refuses it for
        // its protocol ("HTTP protocol is not allowed …skipTLSVerify"), a message about nothing the user did.
        const noConfig = noKubeConfigFound(process.env);
        if (noConfig) throw new Error(noConfig);
        kc.loadFromDefault();
      }
    } catch (e) {
      throw new KubeError(
        `--kubeconfig: cannot read the Kubernetes config: ${errorMessage(e)}; pass --kubeconfig PATH, set KUBECONFIG, or run in a pod with a service account`,
        0,
      );
    }
    const namespace = o.namespace || kc.getContextObject(kc.getCurrentContext())?.namespace || inClusterNamespace() || "default";
    return new KubeClient(kc, namespace, o.timeoutMs);
  }

  /** The same server and credentials in `namespace` (this client when it is already its namespace). */
  inNamespace(namespace: string): KubeClient {
    if (namespace === this.namespace) return this;
    let client = this.siblings.get(namespace);
    if (!client) {
      client = new KubeClient(this.kc, namespace, this.timeoutMs);
      this.siblings.set(namespace, client);
    }
    return client;
  }

  createSecret(body: V1Secret): Promise<V1Secret> {
    return this.call("create secret", body.metadata?.name, () => this.api.createNamespacedSecret({ namespace: this.namespace, body }));
  }

  replaceSecret(body: V1Secret): Promise<V1Secret> {
    const name = body.metadata!.name!;
    return this.call("replace secret", name, () => this.api.replaceNamespacedSecret({ namespace: this.namespace, name, body }));
  }

  async listSecrets(labelSelector: string): Promise<V1Secret[]> {
    return (
      await this.call("list secrets", labelSelector, () => this.api.listNamespacedSecret({ namespace: this.namespace, labelSelector }))
    ).items;
  }

  /** A secret already gone counts as deleted. */
  async deleteSecret(name: string): Promise<void> {
    await this.gone("delete secret", name, () => this.api.deleteNamespacedSecret({ namespace: this.namespace, name }));
  }

  createPod(body: V1Pod): Promise<V1Pod> {
    return this.call("create pod", body.metadata?.name, () => this.api.createNamespacedPod({ namespace: this.namespace, body }));
  }

  async readPod(name: string): Promise<V1Pod | null> {
    return this.gone("read pod", name, () => this.api.readNamespacedPod({ namespace: this.namespace, name }));
  }

  /** Pods carrying the label selector, and the list's resourceVersion to watch from. */
  async listPods(labelSelector: string): Promise<{ pods: V1Pod[]; resourceVersion: string }> {
    const list = await this.call("list pods", labelSelector, () =>
      this.api.listNamespacedPod({ namespace: this.namespace, labelSelector }),
    );
    return { pods: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  /** SIGTERM, then SIGKILL after `graceSeconds`. A pod already gone counts as deleted. */
  async deletePod(name: string, graceSeconds: number): Promise<void> {
    await this.gone("delete pod", name, () =>
      this.api.deleteNamespacedPod({ namespace: this.namespace, name, gracePeriodSeconds: Math.max(0, Math.round(graceSeconds)) }),
    );
  }

  /** The last `tailLines` lines a container printed; "" when the pod or its log is gone. */
  async podLog(name: string, container: string, tailLines: number): Promise<string> {
    try {
      return (
        (await this.gone("read log of pod", name, () =>
          this.api.readNamespacedPodLog({ namespace: this.namespace, name, container, tailLines }),
        )) ?? ""
      );
    } catch (e) {
      // A container that never started has no log (400 "waiting to start"): nothing to show, not a failure.
      if (e instanceof KubeError && e.status === 400) return "";
      throw e;
    }
  }

  createPvc(body: V1PersistentVolumeClaim): Promise<V1PersistentVolumeClaim> {
    return this.call("create persistentvolumeclaim", body.metadata?.name, () =>
      this.api.createNamespacedPersistentVolumeClaim({ namespace: this.namespace, body }),
    );
  }

  async listPvcs(labelSelector: string): Promise<V1PersistentVolumeClaim[]> {
    return (
      await this.call("list persistentvolumeclaims", labelSelector, () =>
        this.api.listNamespacedPersistentVolumeClaim({ namespace: this.namespace, labelSelector }),
      )
    ).items;
  }

  async deletePvc(name: string): Promise<void> {
    await this.gone("delete persistentvolumeclaim", name, () =>
      this.api.deleteNamespacedPersistentVolumeClaim({ namespace: this.namespace, name }),
    );
  }

  /**
   * Watches pods from `resourceVersion` until the server ends the stream (`timeoutSeconds`), the stream
   * fails, or `stop()` is called; `done` is called once with the error, if any.
   */
  async watchPods(
    labelSelector: string,
    resourceVersion: string,
    onEvent: (e: WatchEvent) => void,
    done: (err: unknown) => void,
  ): Promise<{ stop(): void }> {
    const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`;
    const query = { labelSelector, resourceVersion, allowWatchBookmarks: false, timeoutSeconds: 25 };
    const onObject = (type: string, obj: { code?: number; message?: string } & V1Pod) => {
      if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") onEvent({ type, pod: obj });
      else if (type === "ERROR") onEvent({ type: "ERROR", status: obj.code ?? 0, message: obj.message ?? "watch error" });
    };
    try {
      const controller = await new Watch(this.kc).watch(path, query, onObject, done);
      return { stop: () => controller.abort() };
    } catch (e) {
      throw this.describe("watch pods", labelSelector, e);
    }
  }

  private async call<T>(what: string, name: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.describe(what, name, e);
    }
  }

  /** Like call, but a 404 is null: deleting or reading what is already gone is fine. */
  private async gone<T>(what: string, name: string, fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (e) {
      if ((e as { code?: number }).code === 404) return null;
      throw this.describe(what, name, e);
    }
  }

  private describe(what: string, name: string | undefined, e: unknown): KubeError {
    const where = `${what} ${name ?? ""} in namespace ${this.namespace} at ${this.server}`.replace(/\s+/g, " ");
    const err = e as { code?: unknown; body?: unknown; name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError" || err.name === "AbortError")
      return new KubeError(
        `Kubernetes API: ${where} got no answer within ${this.timeoutMs / 1000}s; check that the API server is up and reachable from this host`,
        0,
      );
    if (typeof err.code === "number") {
      const message = statusMessage(err.body) ?? err.message ?? "";
      if (err.code === 401)
        return new KubeError(
          `Kubernetes API: ${where} was refused (401 unauthorized: ${message}); the credentials in the kubeconfig or the service-account token are not valid`,
          401,
        );
      if (err.code === 403)
        return new KubeError(
          `Kubernetes API: ${where} is forbidden (403: ${message}); grant the server's service account this verb on pods, pods/log, secrets and persistentvolumeclaims in namespace ${this.namespace} (see deploy/kubernetes)`,
          403,
        );
      return new KubeError(`Kubernetes API: ${where} failed with ${err.code}: ${message.slice(0, 500)}`, err.code);
    }
    const cause = err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
    // Not a network failure: the client refused to send the request (e.g. credentials over plain http).
    if (!(e instanceof TypeError) && !/ECONN|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EAI_AGAIN|Unable to connect|fetch failed/.test(cause))
      return new KubeError(`Kubernetes API: cannot ${where}: ${cause}; check the cluster and user in --kubeconfig`, 0);
    return new KubeError(
      `Kubernetes API server at ${this.server} is not reachable (${what} ${name ?? ""}: ${cause}); check --kubeconfig or the in-cluster service address`.replace(
        /\s+\)/,
        ")",
      ),
      0,
    );
  }
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body !== "string") return (body as { message?: string } | undefined)?.message;
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body;
  }
}

function inClusterNamespace(): string | undefined {
  try {
    return existsSync(IN_CLUSTER_NAMESPACE) ? readFileSync(IN_CLUSTER_NAMESPACE, "utf8").trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why no Kubernetes config can be found where the client library looks (KUBECONFIG, ~/.kube/config, a pod's
 * service account), or null when one of them is there.
 */
export function noKubeConfigFound(env: Record<string, string | undefined>): string | null {
  if (env.KUBECONFIG) return null;
  const home = env.HOME ?? env.USERPROFILE;
  if (home && existsSync(join(home, ".kube", "config"))) return null;
  if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) return null;
  return `no Kubernetes config found (KUBECONFIG is not set, ${home ? `${join(home, ".kube", "config")} does not exist` : "there is no home folder"}, and this is not a pod with a service account)`;
}

const IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
