/**
 * KubeApiDouble: a Kubernetes API-server double for tests, a Bun HTTP server on 127.0.0.1 that speaks the
 * real wire protocol for what Leoflow's Kubernetes executor uses (discovery; pods, pods/log, secrets,
 * configmaps, persistentvolumeclaims, events in namespaces; watch streams; Status errors; resourceVersion;
 * owner-reference garbage collection), validates every object against Kubernetes' schemas
 * (kubernetes-models), and, unless `kubelet: false`, runs each pod's containers through podman's
 * Docker-compatible API (DOCKER_HOST) with a kubelet that reports status as the real one does.
 * kubectl and @kubernetes/client-node talk to it through the kubeconfig it writes.
 *
 * @example
 *   const kube = await startKubeApiDouble({ namespaces: ["leoflow"] });
 *   process.env.KUBECONFIG = kube.writeKubeconfig();
 *   ...
 *   await kube.stop();
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster } from "./cluster";
import { KubeletEngine } from "./engine";
import { NODE_NAME, PodmanKubelet } from "./kubelet";
import { handler, type AccessRules, type PolicyRule } from "./server";
import { badRequest } from "./status";

export { Cluster } from "./cluster";
export type { KubeObject } from "./object-store";
export { NODE_NAME } from "./kubelet";
export type { PolicyRule } from "./server";

export interface KubeApiDoubleOptions {
  /** Namespaces that exist from the start ("default" always does); others can be created through the API. */
  namespaces?: string[];
  /** When set, every request must carry `Authorization: Bearer <token>` (the kubeconfig does). */
  token?: string;
  /** When set, RBAC: only what these rules allow is served, the rest is 403 (e.g. deploy/kubernetes/role.yaml's). */
  rules?: PolicyRule[];
  /** The kubelet's engine (default: DOCKER_HOST, else podman-service's socket), or false for an API with no kubelet. */
  kubelet?: false | { dockerHost?: string; pullBackoffMs?: number };
  port?: number;
}

export interface KubeApiDouble {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly cluster: Cluster;
  /** A kubeconfig (YAML) with one cluster, user and context pointing here, in `namespace` (default: the first one given). */
  kubeconfig(namespace?: string): string;
  /** Writes kubeconfig() to a file (in a temp dir, removed by stop(), unless `path`) and returns its path. */
  writeKubeconfig(path?: string, namespace?: string): string;
  /** From now on answer `verb resource` (e.g. "create pods", "get pods/log", "* secrets") with 403 Forbidden. */
  deny(verb: string, resource: string): void;
  allow(verb: string, resource: string): void;
  /** Evicts a running pod as node pressure would: its containers are killed and it fails with reason Evicted. False if it is not running. */
  evict(namespace: string, name: string, message?: string): Promise<boolean>;
  /** Every API request so far (method, path with query, JSON body). */
  readonly requests: { method: string; url: string; body: unknown }[];
  stop(): Promise<void>;
}

const DEFAULT_SOCKET = "unix:///run/leoflow-podman/podman.sock";

export async function startKubeApiDouble(opts: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
  const namespaces = opts.namespaces ?? [];
  const cluster = new Cluster(namespaces);
  const instance = randomUUID().slice(0, 8);
  const access: AccessRules = { token: opts.token, rules: opts.rules, denied: new Set(), user: "system:serviceaccount:leoflow:leoflow" };
  const requests: KubeApiDouble["requests"] = [];
  const configDirs: string[] = [];
  let kubelet: PodmanKubelet | undefined;
  if (opts.kubelet !== false) {
    const host = opts.kubelet?.dockerHost ?? process.env.DOCKER_HOST ?? DEFAULT_SOCKET;
    const workDir = mkdtempSync(join(tmpdir(), `kube-api-double-${instance}-`));
    kubelet = new PodmanKubelet(cluster, new KubeletEngine(host), {
      workDir,
      instance,
      pullBackoffMs: opts.kubelet?.pullBackoffMs ?? 1000,
    });
    kubelet.start();
  }
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    // Watches stay open for minutes with nothing to say; Bun's default 10 s idle timeout would cut them.
    idleTimeout: 0,
    fetch: handler(
      cluster,
      {
        podLogs: (pod, o) => {
          if (!kubelet)
            throw badRequest(
              `container in pod "${pod.metadata.name}" is waiting to start: ContainerCreating (the double runs without a kubelet)`,
            );
          return kubelet.podLogs(pod, o);
        },
        onRequest: (r) => requests.push(r),
      },
      access,
    ),
  });
  const url = `http://127.0.0.1:${server.port}`;
  const kubeconfig = (namespace = namespaces[0] ?? "default") =>
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: kube-api-double",
      "  cluster:",
      `    server: ${url}`,
      // Plain HTTP: client-node only accepts an http:// server when TLS verification is off.
      "    insecure-skip-tls-verify: true",
      "users:",
      "- name: kube-api-double",
      `  user: ${opts.token ? `{ token: ${JSON.stringify(opts.token)} }` : "{}"}`,
      "contexts:",
      "- name: kube-api-double",
      "  context:",
      "    cluster: kube-api-double",
      "    user: kube-api-double",
      `    namespace: ${namespace}`,
      "current-context: kube-api-double",
      "",
    ].join("\n");
  return {
    url,
    cluster,
    requests,
    kubeconfig,
    writeKubeconfig(path, namespace) {
      if (!path) configDirs.push(mkdtempSync(join(tmpdir(), "kube-api-double-config-")));
      const file = path ?? join(configDirs.at(-1)!, "kubeconfig");
      writeFileSync(file, kubeconfig(namespace), { mode: 0o600 });
      return file;
    },
    evict: async (namespace, name, message = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi.") =>
      kubelet ? kubelet.evict(namespace, name, message) : false,
    deny: (verb, resource) => void access.denied.add(`${verb} ${resource}`),
    allow: (verb, resource) => void access.denied.delete(`${verb} ${resource}`),
    async stop() {
      server.stop(true);
      await kubelet?.stop();
      for (const dir of configDirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { NODE_NAME as KUBE_API_DOUBLE_NODE };
