/**
 * What a dispatch says when the Kubernetes API server does not cooperate: unreachable, silent (every call
 * has a timeout, so a hung server is a failed call, never a hung dispatch), forbidden. In-process against
 * small local stand-ins; and the compiled server against an address where nothing listens.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeError } from "../../src/executors/kubernetes";
import { BINARY, startLeoflow, waitForRun } from "../e2e/harness";

const T = 60_000;

function kubeconfigFor(server: string): string {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-kubeconfig-"));
  const file = join(dir, "config");
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: { server: "${server}", insecure-skip-tls-verify: true }\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: { cluster: c, user: u, namespace: leoflow }\ncurrent-context: x\n`,
  );
  return file;
}

const client = async (server: string, timeoutMs = 300) => {
  const { KubeClient } = await import("../../src/executors/kubernetes/client");
  return KubeClient.fromConfig({ kubeconfig: kubeconfigFor(server), timeoutMs });
};
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KubeError);
    return e as KubeError;
  }
  throw new Error("expected the call to fail");
};

test("no Kubernetes config anywhere says so and how to give one, not the client library's localhost fallback", async () => {
  const { KubeClient, noKubeConfigFound } = await import("../../src/executors/kubernetes/client");
  const home = mkdtempSync(join(tmpdir(), "leoflow-nohome-"));
  expect(noKubeConfigFound({ HOME: home })).toBe(
    `no Kubernetes config found (KUBECONFIG is not set, ${home}/.kube/config does not exist, and this is not a pod with a service account)`,
  );
  expect(noKubeConfigFound({ HOME: home, KUBECONFIG: "/etc/k.yaml" })).toBeNull();
  mkdirSync(join(home, ".kube"));
  writeFileSync(join(home, ".kube", "config"), "");
  expect(noKubeConfigFound({ HOME: home })).toBeNull();
  // Through the client, as `serve --executor kubernetes` meets it with nothing configured.
  const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG };
  const empty = mkdtempSync(join(tmpdir(), "leoflow-nohome-"));
  process.env.HOME = empty;
  delete process.env.KUBECONFIG;
  try {
    expect(() => KubeClient.fromConfig({ timeoutMs: 300 })).toThrow(
      `--kubeconfig: cannot read the Kubernetes config: no Kubernetes config found (KUBECONFIG is not set, ${empty}/.kube/config does not exist`,
    );
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
});

describe("Kubernetes API failures", () => {
  const silent = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
  const forbidding = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      Response.json(
        {
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "Forbidden",
          code: 403,
          message: 'pods is forbidden: User "system:serviceaccount:leoflow:leoflow" cannot create resource "pods"',
        },
        { status: 403 },
      ),
  });
  afterAll(() => {
    silent.stop(true);
    forbidding.stop(true);
  });

  test("a plain http:// server without insecure-skip-tls-verify: the client refuses, and says so", async () => {
    const file = kubeconfigFor("http://127.0.0.1:1");
    writeFileSync(file, (await Bun.file(file).text()).replace(", insecure-skip-tls-verify: true", ""));
    const { KubeClient } = await import("../../src/executors/kubernetes/client");
    const e = await failure(KubeClient.fromConfig({ kubeconfig: file, timeoutMs: 300 }).listPods("a=b"));
    expect(e.message).toBe(
      "Kubernetes API: cannot list pods a=b in namespace leoflow at http://127.0.0.1:1: HTTP protocol is not allowed when skipTLSVerify is not set or false; check the cluster and user in --kubeconfig",
    );
  });

  test("unreachable: says where it looked and what to check", async () => {
    const e = await failure((await client("http://127.0.0.1:1")).listPods("a=b"));
    expect(e.status).toBe(0);
    expect(e.message).toStartWith("Kubernetes API server at http://127.0.0.1:1 is not reachable (list pods a=b: ");
    expect(e.message).toEndWith("check --kubeconfig or the in-cluster service address");
  });

  test("silent: the call times out instead of hanging", async () => {
    const e = await failure((await client(`http://127.0.0.1:${silent.port}`)).createSecret({ metadata: { name: "s" } }));
    expect(e.message).toBe(
      `Kubernetes API: create secret s in namespace leoflow at http://127.0.0.1:${silent.port} got no answer within 0.3s; check that the API server is up and reachable from this host`,
    );
  });

  test("forbidden: names the permission to grant", async () => {
    const e = await failure((await client(`http://127.0.0.1:${forbidding.port}`)).createPod({ metadata: { name: "p" } }));
    expect(e.status).toBe(403);
    expect(e.message).toContain("create pod p in namespace leoflow at http://127.0.0.1:");
    expect(e.message).toContain(
      'is forbidden (403: pods is forbidden: User "system:serviceaccount:leoflow:leoflow" cannot create resource "pods")',
    );
    expect(e.message).toContain(
      "grant the server's service account this verb on pods, pods/log, secrets and persistentvolumeclaims in namespace leoflow",
    );
  });
});

describe.skipIf(!existsSync(BINARY))("a server whose API server is unreachable", () => {
  test(
    "keeps serving; a task fails to dispatch with the precise reason (after its retries), never hangs",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "leoflow-k8s-down-"));
      mkdirSync(join(dir, "dags"));
      writeFileSync(
        join(dir, "dags", "d.json"),
        JSON.stringify({ dag_id: "k8s_down", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
      );
      const lf = await startLeoflow({
        dir,
        args: [
          "--executor=kubernetes",
          `--kubeconfig=${kubeconfigFor("http://127.0.0.1:1")}`,
          "--dispatch-retries=2",
          "--dispatch-retry-base=0.1",
        ],
      });
      try {
        expect(lf.output()).toContain("Kubernetes API server at http://127.0.0.1:1 is not reachable");
        await lf.api("POST", "/api/v2/dags/k8s_down/dagRuns", { dag_run_id: "d1", logical_date: null });
        expect((await waitForRun(lf, "k8s_down", "d1", T)).state).toBe("failed");
        const t = (await lf.api("GET", "/api/v2/dags/k8s_down/dagRuns/d1/taskInstances/t")).body;
        expect(t.note).toStartWith("dispatch_failed: ");
        expect(t.note).toContain("Kubernetes API server at http://127.0.0.1:1 is not reachable");
        expect((await fetch(`${lf.url}/api/v2/monitor/health`)).status).toBe(200);
      } finally {
        await lf.stop();
      }
    },
    T,
  );
});
