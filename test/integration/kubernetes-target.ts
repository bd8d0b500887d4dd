/**
 * Where the Kubernetes-executor tests run: a real cluster when KUBECONFIG is set (its images named by
 * LEOFLOW_TEST_K8S_AGENT_IMAGE and LEOFLOW_TEST_K8S_TASK_IMAGE, its pods reaching this host at
 * LEOFLOW_TEST_ADVERTISE_URL), else the API-server double in test/support/kube-api-double, whose podman
 * "kubelet" really runs each pod's init and task containers. For the double, the images are built here
 * without a registry: the Leoflow image (cp and the leoflow binary at /usr/local/bin/leoflow, as the
 * deploy Dockerfile has it) and the docker tests' task image (bash, coreutils, glibc).
 * Locally the tests skip with one line when neither is available; under CI=true that is an error.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ensureTestImage, testEngine } from "../support/docker";
import { linkedLibraries } from "../support/ldd";
import type { DockerClient } from "../../src/executors";

export interface KubeTarget {
  kind: "cluster" | "double";
  kubeconfig: string;
  namespace: string;
  agentImage: string;
  taskImage: string;
  pullPolicy: "never" | "if_not_present";
  /** The control-plane URL pods reach (undefined: the server's own http://127.0.0.1:PORT, host network). */
  advertiseUrl?: string;
  /** The double, to refuse verbs (deny) in tests; absent on a real cluster. */
  double?: { deny(verb: string, resource: string): void; allow(verb: string, resource: string): void };
  stop(): Promise<void>;
}

export const BINARY = resolve(process.env.LEOFLOW_TEST_BINARY ?? resolve(import.meta.dir, "../../dist/leoflow"));
const NAMESPACE = "leoflow-test";

let announced = false;
function skip(why: string): null {
  if (process.env.CI === "true") throw new Error(`Kubernetes-executor tests are required under CI=true, but ${why}`);
  if (!announced) console.log(`skipping Kubernetes-executor tests: ${why}`);
  announced = true;
  return null;
}

export async function kubeTarget(): Promise<KubeTarget | null> {
  if (process.env.KUBECONFIG) {
    const agentImage = process.env.LEOFLOW_TEST_K8S_AGENT_IMAGE;
    const taskImage = process.env.LEOFLOW_TEST_K8S_TASK_IMAGE;
    const advertiseUrl = process.env.LEOFLOW_TEST_ADVERTISE_URL;
    if (!agentImage || !taskImage || !advertiseUrl)
      return skip(
        "KUBECONFIG is set but LEOFLOW_TEST_K8S_AGENT_IMAGE, LEOFLOW_TEST_K8S_TASK_IMAGE and LEOFLOW_TEST_ADVERTISE_URL are not all set",
      );
    return {
      kind: "cluster",
      kubeconfig: process.env.KUBECONFIG,
      namespace: process.env.LEOFLOW_TEST_K8S_NAMESPACE ?? "default",
      agentImage,
      taskImage,
      pullPolicy: "if_not_present",
      advertiseUrl,
      stop: async () => {},
    };
  }
  const doubleDir = resolve(import.meta.dir, "../support/kube-api-double/index.ts");
  if (!existsSync(doubleDir)) return skip("no KUBECONFIG and the API-server double (test/support/kube-api-double) is not there");
  if (!existsSync(BINARY)) return skip(`${BINARY} is missing; build it (bun scripts/build.ts)`);
  const engine = await testEngine();
  if (!engine) return skip("no container engine for the double's kubelet (scripts/podman-service)");
  const { startKubeApiDouble } = await import("../support/kube-api-double");
  const [taskImage, agentImage] = await Promise.all([ensureTestImage(engine), ensureAgentImage(engine)]);
  const double = await startKubeApiDouble({ namespaces: [NAMESPACE], kubelet: { dockerHost: engine.host, pullBackoffMs: 200 } });
  return {
    kind: "double",
    kubeconfig: double.writeKubeconfig(undefined, NAMESPACE),
    namespace: NAMESPACE,
    agentImage,
    taskImage,
    pullPolicy: "never",
    double,
    stop: () => double.stop(),
  };
}

/** The Leoflow image as the init container sees it: `cp` and the binary under test, tagged by the binary's size and time. */
export async function ensureAgentImage(engine: DockerClient): Promise<string> {
  const st = statSync(BINARY);
  const image = `localhost/leoflow-k8s-agent-test:${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}`;
  if (await engine.imageExists(image)) return image;
  const root = mkdtempSync(join(tmpdir(), "leoflow-agent-rootfs-"));
  try {
    const cp = Bun.which("cp")!;
    const files = linkedLibraries([cp, BINARY]);
    mkdirSync(join(root, "bin"), { recursive: true });
    copyFileSync(cp, join(root, "bin/cp"));
    mkdirSync(join(root, "usr/local/bin"), { recursive: true });
    copyFileSync(BINARY, join(root, "usr/local/bin/leoflow"));
    for (const f of files) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      copyFileSync(f, join(root, f));
    }
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
    const tar = Bun.spawnSync(["tar", "-C", root, "-c", "."], { stdout: "pipe" });
    if (tar.exitCode !== 0) throw new Error(`tar of the agent rootfs failed: ${tar.stderr.toString()}`);
    const [repo, tag] = image.split(/:(?=[^:]*$)/) as [string, string];
    await engine.importImage(new Blob([new Uint8Array(tar.stdout)]), repo, tag);
    await removeOtherTags(engine.host, repo, image);
    return image;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Each build of the binary makes a new ~120 MiB agent image: earlier ones of this repo go (best effort). */
async function removeOtherTags(host: string, repo: string, keep: string): Promise<void> {
  const call = (method: string, path: string) =>
    host.startsWith("unix://")
      ? fetch(`http://engine/v1.41${path}`, { method, unix: host.slice("unix://".length) } as RequestInit)
      : fetch(`${host.replace(/^tcp:/, "http:")}/v1.41${path}`, { method });
  try {
    const images = (await (await call("GET", "/images/json")).json()) as { Id: string; RepoTags: string[] | null }[];
    for (const img of images)
      if (img.RepoTags?.some((t) => t.startsWith(`${repo}:`)) && !img.RepoTags.includes(keep))
        await call("DELETE", `/images/${img.Id}?force=true`);
  } catch {}
}
