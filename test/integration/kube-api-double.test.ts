/**
 * The Kubernetes API-server double held to the real thing: @kubernetes/client-node (the client the
 * Kubernetes executor uses) creates, lists, watches and deletes through it and gets real Status errors;
 * its podman kubelet runs pods for real (init container, emptyDir, secret env and volume, claim, exit
 * codes, missing images, deadlines, graceful deletion, logs); and kubectl lists, gets and deletes its pods.
 * The kubelet tests skip locally without a podman service (one line) and are required under CI=true;
 * kubectl comes from scripts/kubectl.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from "@kubernetes/client-node";
import { kubectl, kubectlAvailable } from "../support/kube-api-double/kubectl";
import { startKubeApiDouble, type KubeApiDouble } from "../support/kube-api-double";
import { ensureTestImage, testEngine } from "../support/docker";
import { ensureLeoflowImage } from "../support/kube-api-double/images";
import { BINARY } from "../e2e/harness";

const NS = "leoflow-test";
const T = 60_000;

function clientFor(kube: KubeApiDouble): { api: CoreV1Api; kc: KubeConfig } {
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeconfig(NS));
  return { api: kc.makeApiClient(CoreV1Api), kc };
}

/** The error client-node throws for a non-2xx answer: its HTTP code and the parsed Status body. */
async function apiError(p: Promise<unknown>): Promise<{ code: number; status: any }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; body?: unknown };
    return { code: err.code ?? 0, status: typeof err.body === "string" ? JSON.parse(err.body) : err.body };
  }
  throw new Error("the call succeeded, but an error was expected");
}

/** Collects watch events until `until` holds for the list so far. */
function watchPods(
  kc: KubeConfig,
  query: Record<string, string | number | boolean | undefined>,
  until: (events: { type: string; pod: V1Pod }[]) => boolean,
) {
  const events: { type: string; pod: V1Pod }[] = [];
  let stop = () => {};
  const done = new Promise<typeof events>((resolve, reject) => {
    void new Watch(kc)
      .watch(
        `/api/v1/namespaces/${NS}/pods`,
        query,
        (type, pod) => {
          events.push({ type, pod });
          if (until(events)) resolve(events);
        },
        (err) => (err ? reject(err) : resolve(events)),
      )
      .then((c) => (stop = () => c.abort()), reject);
  });
  return { done: done.finally(() => stop()), events };
}

const pod = (name: string, extra: Partial<V1Pod["spec"]> = {}, labels: Record<string, string> = {}): V1Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "double-test", ...labels } },
  spec: {
    restartPolicy: "Never",
    containers: [{ name: "main", image: "localhost/leoflow-test:1", imagePullPolicy: "Never", command: ["true"] }],
    ...extra,
  },
});

describe("KubeApiDouble through @kubernetes/client-node (API only)", () => {
  let kube: KubeApiDouble;
  let api: CoreV1Api;
  let kc: KubeConfig;
  beforeAll(async () => {
    kube = await startKubeApiDouble({ namespaces: [NS], kubelet: false });
    ({ api, kc } = clientFor(kube));
  });
  afterAll(() => kube.stop());

  test("secrets: create, get, list by label, refuse a duplicate, delete, then 404", async () => {
    const made = await api.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: "tok", labels: { run: "r1" } }, stringData: { token: "s3cret" } },
    });
    expect(made.metadata?.uid).toBeString();
    expect(made.data?.token).toBe(Buffer.from("s3cret").toString("base64"));
    expect((await api.readNamespacedSecret({ namespace: NS, name: "tok" })).type).toBe("Opaque");
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "other", labels: { run: "r2" } }, data: {} } });
    const listed = await api.listNamespacedSecret({ namespace: NS, labelSelector: "run=r1" });
    expect(listed.items.map((s) => s.metadata?.name)).toEqual(["tok"]);

    const dup = await apiError(api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "tok" } } }));
    expect(dup.code).toBe(409);
    expect(dup.status).toMatchObject({ kind: "Status", reason: "AlreadyExists", message: 'secrets "tok" already exists' });

    await api.deleteNamespacedSecret({ namespace: NS, name: "tok" });
    const missing = await apiError(api.readNamespacedSecret({ namespace: NS, name: "tok" }));
    expect(missing.code).toBe(404);
    expect(missing.status.reason).toBe("NotFound");
  });

  test("an invalid pod is refused with 422 Invalid and one cause per bad field", async () => {
    const bad = pod("Bad_Name", { containers: [{ name: "main", image: "" }], activeDeadlineSeconds: 0 }, { "leoflow/dag": "x".repeat(64) });
    const { code, status } = await apiError(api.createNamespacedPod({ namespace: NS, body: bad }));
    expect(code).toBe(422);
    expect(status.reason).toBe("Invalid");
    expect(status.details.causes.map((c: any) => c.field).sort()).toEqual([
      "metadata.labels",
      "metadata.name",
      "spec.activeDeadlineSeconds",
      "spec.containers[0].image",
    ]);
    // The kind's JSON schema too: a container name that is not a string.
    const typed = await apiError(
      api.createNamespacedPod({ namespace: NS, body: pod("typed", { containers: [{ name: 7 as never, image: "x:1" }] }) }),
    );
    expect(typed.status.details.causes).toContainEqual(expect.objectContaining({ field: "spec.containers[0].name" }));
  });

  test("a watch from a list's resourceVersion sees ADDED, MODIFIED and DELETED; a too-old one gets 410", async () => {
    const { resourceVersion } = (await api.listNamespacedPod({ namespace: NS, labelSelector: "app=double-test" })).metadata!;
    const w = watchPods(kc, { labelSelector: "app=double-test,try=1", resourceVersion }, (ev) => ev.some((e) => e.type === "DELETED"));
    await api.createNamespacedPod({ namespace: NS, body: pod("watched", {}, { try: "1" }) });
    await api.createNamespacedPod({ namespace: NS, body: pod("not-watched", {}, { try: "2" }) });
    await api
      .patchNamespacedPod({ namespace: NS, name: "watched", body: { metadata: { labels: { seen: "yes" } } } }, {
        headers: { "content-type": "application/merge-patch+json" },
      } as never)
      .catch(async () => {
        // client-node versions differ in how a patch's content type is passed; the JSON-patch default works everywhere.
        await api.patchNamespacedPod({
          namespace: NS,
          name: "watched",
          body: [{ op: "add", path: "/metadata/labels/seen", value: "yes" }],
        });
      });
    // Not bound to a node, so deleted at once (the real server's rule for unscheduled pods).
    const deleted = await api.deleteNamespacedPod({ namespace: NS, name: "watched", gracePeriodSeconds: 30 });
    expect(deleted.metadata?.name).toBe("watched");
    const events = await w.done;
    expect(events.map((e) => `${e.type} ${e.pod.metadata?.name}`)).toEqual(["ADDED watched", "MODIFIED watched", "DELETED watched"]);
    expect(events[1]!.pod.metadata?.labels?.seen).toBe("yes");
    const rvs = events.map((e) => Number(e.pod.metadata?.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));

    const replay = watchPods(kc, { labelSelector: "try=1", resourceVersion }, (ev) => ev.length === 3);
    expect((await replay.done).map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    const expired = watchPods(kc, { resourceVersion: "1" }, (ev) => ev.length === 1);
    const [err] = await expired.done;
    expect(err!.type).toBe("ERROR");
    expect(err!.pod as unknown).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
    await api.deleteNamespacedPod({ namespace: NS, name: "not-watched" });
  });

  test("a secret owned by a pod is garbage-collected when the pod goes", async () => {
    const owner = await api.createNamespacedPod({ namespace: NS, body: pod("owner") });
    await api.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "owned", ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "owner", uid: owner.metadata!.uid! }] },
        stringData: { a: "b" },
      },
    });
    await api.deleteNamespacedPod({ namespace: NS, name: "owner" });
    expect((await apiError(api.readNamespacedSecret({ namespace: NS, name: "owned" }))).code).toBe(404);
  });

  test("a claim is bound at once; deleting one in use by a pod leaves it Terminating until the pod goes", async () => {
    const claim = {
      metadata: { name: "staging-1" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    };
    await api.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim });
    const bad = await apiError(
      api.createNamespacedPersistentVolumeClaim({
        namespace: NS,
        body: { metadata: { name: "no-size" }, spec: { accessModes: ["ReadWriteOnce"] } },
      }),
    );
    expect(bad.code).toBe(422);
    await api.createNamespacedPod({
      namespace: NS,
      body: pod("user", { volumes: [{ name: "s", persistentVolumeClaim: { claimName: "staging-1" } }] }),
    });
    await api.deleteNamespacedPersistentVolumeClaim({ namespace: NS, name: "staging-1" });
    const terminating = await api.readNamespacedPersistentVolumeClaim({ namespace: NS, name: "staging-1" });
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    expect(terminating.metadata?.finalizers).toEqual(["kubernetes.io/pvc-protection"]);
    await api.deleteNamespacedPod({ namespace: NS, name: "user" });
    expect((await apiError(api.readNamespacedPersistentVolumeClaim({ namespace: NS, name: "staging-1" }))).code).toBe(404);
  });

  test("with a token set, a request without it is 401 Unauthorized; the kubeconfig's token is accepted", async () => {
    const guarded = await startKubeApiDouble({ namespaces: [NS], kubelet: false, token: "s3cret-token" });
    try {
      const anonymous = await fetch(`${guarded.url}/api/v1/namespaces/${NS}/pods`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
      const { items } = await clientFor(guarded).api.listNamespacedPod({ namespace: NS });
      expect(items).toEqual([]);
    } finally {
      await guarded.stop();
    }
  });

  test("a denied verb is 403 Forbidden naming the user, verb and resource", async () => {
    kube.deny("create", "pods");
    const { code, status } = await apiError(api.createNamespacedPod({ namespace: NS, body: pod("nope") }));
    kube.allow("create", "pods");
    expect(code).toBe(403);
    expect(status.message).toContain('cannot create resource "pods" in API group "" in the namespace "leoflow-test"');
  });
});

const engine = await testEngine();

describe.skipIf(!engine)("KubeApiDouble's kubelet runs pods through podman", () => {
  let kube: KubeApiDouble;
  let api: CoreV1Api;
  let kc: KubeConfig;
  let image: string;
  beforeAll(async () => {
    image = await ensureTestImage(engine!);
    kube = await startKubeApiDouble({ namespaces: [NS], kubelet: { pullBackoffMs: 200 } });
    ({ api, kc } = clientFor(kube));
  }, T);
  afterAll(() => kube?.stop());

  const bash = (name: string, script: string, extra: object = {}) => ({
    name,
    image,
    imagePullPolicy: "Never",
    command: ["bash", "-c", script],
    ...extra,
  });
  const until = (name: string, done: (p: V1Pod) => boolean) =>
    watchPods(kc, { fieldSelector: `metadata.name=${name}` }, (ev) => ev.some((e) => e.type !== "ERROR" && done(e.pod))).done;
  const phase = (ev: { pod: V1Pod }[]) => ev.at(-1)!.pod.status?.phase;

  test(
    "an init container fills an emptyDir; the main container reads it, a secret env, a group-readable secret volume and a claim; logs and tailLines",
    async () => {
      await api.createNamespacedSecret({
        namespace: NS,
        body: { metadata: { name: "task-secret" }, stringData: { token: "tok-123", "ca.crt": "PEM" } },
      });
      await api.createNamespacedPersistentVolumeClaim({
        namespace: NS,
        body: { metadata: { name: "stage" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } },
      });
      const seen = until("full", (p) => ["Succeeded", "Failed"].includes(p.status?.phase ?? ""));
      await api.createNamespacedPod({
        namespace: NS,
        body: pod("full", {
          securityContext: { runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true, fsGroup: 2000 },
          initContainers: [
            bash("fetch", "echo from-init > /work/file; echo staged > /stage/part-0", {
              volumeMounts: [
                { name: "work", mountPath: "/work" },
                { name: "stage", mountPath: "/stage" },
              ],
            }),
          ],
          containers: [
            bash(
              "main",
              "cat /work/file; cat /stage/part-0; echo token=$TOKEN; cat /secret/ca.crt; echo; id -u; for i in 1 2 3; do echo line-$i; done",
              {
                env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "task-secret", key: "token" } } }],
                resources: { limits: { memory: "64Mi", cpu: "500m" } },
                volumeMounts: [
                  { name: "work", mountPath: "/work" },
                  { name: "secret", mountPath: "/secret", readOnly: true },
                  { name: "stage", mountPath: "/stage" },
                ],
              },
            ),
          ],
          volumes: [
            { name: "work", emptyDir: {} },
            // Readable only by its group: the container reads it through fsGroup, as on a real node.
            { name: "secret", secret: { secretName: "task-secret", defaultMode: 0o440 } },
            { name: "stage", persistentVolumeClaim: { claimName: "stage" } },
          ],
        }),
      });
      const events = await seen;
      const phases = [...new Set(events.map((e) => e.pod.status?.phase))];
      expect(phases).toEqual(["Pending", "Running", "Succeeded"]);
      const last = events.at(-1)!.pod;
      expect(last.spec?.nodeName).toBe("kube-api-double-node");
      expect(last.status?.initContainerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
      expect(last.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
      const log = await api.readNamespacedPodLog({ namespace: NS, name: "full" });
      expect(log).toBe("from-init\nstaged\ntoken=tok-123\nPEM\n65534\nline-1\nline-2\nline-3\n");
      expect(await api.readNamespacedPodLog({ namespace: NS, name: "full", container: "main", tailLines: 2 })).toBe("line-2\nline-3\n");
      expect(await api.readNamespacedPodLog({ namespace: NS, name: "full", container: "fetch" })).toBe("");
    },
    T,
  );

  test(
    "the Leoflow image (deploy/kubernetes/Dockerfile) gives the agent to a locked-down task container through an init container",
    async () => {
      const leoflow = await ensureLeoflowImage({ binary: BINARY });
      const locked = {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      };
      const seen = until("agent-copy", (p) => ["Succeeded", "Failed"].includes(p.status?.phase ?? ""));
      await api.createNamespacedPod({
        namespace: NS,
        body: pod("agent-copy", {
          securityContext: { runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534 },
          automountServiceAccountToken: false,
          initContainers: [
            {
              name: "install-agent",
              image: leoflow,
              imagePullPolicy: "Never",
              command: ["cp", "/usr/local/bin/leoflow", "/agent/leoflow"],
              securityContext: locked,
              volumeMounts: [{ name: "agent", mountPath: "/agent" }],
            },
          ],
          containers: [
            {
              name: "task",
              image,
              imagePullPolicy: "Never",
              command: ["/agent/leoflow", "version"],
              securityContext: locked,
              volumeMounts: [{ name: "agent", mountPath: "/agent", readOnly: true }],
            },
          ],
          volumes: [{ name: "agent", emptyDir: {} }],
        }),
      });
      const last = (await seen).at(-1)!.pod;
      const log = await api.readNamespacedPodLog({ namespace: NS, name: "agent-copy" });
      expect({ phase: last.status?.phase, log }).toEqual({ phase: "Succeeded", log: expect.stringMatching(/\S/) });
    },
    T,
  );

  test.skipIf(!kubectlAvailable())(
    "kubectl shows a finished pod as Completed and prints its logs",
    async () => {
      const config = kube.writeKubeconfig();
      expect((await kubectl(config, "get", "pod", "full")).out).toMatch(/^full\s+0\/1\s+Completed\s+0\s+\d+s$/m);
      expect(await kubectl(config, "logs", "full", "-c", "main", "--tail=1")).toEqual({ code: 0, out: "line-3\n" });
    },
    T,
  );

  test(
    "a failing container ends the pod Failed with its exit code and reason Error",
    async () => {
      const seen = until("fails", (p) => ["Succeeded", "Failed"].includes(p.status?.phase ?? ""));
      await api.createNamespacedPod({ namespace: NS, body: pod("fails", { containers: [bash("main", "echo about to fail; exit 3")] }) });
      const last = (await seen).at(-1)!.pod;
      expect(last.status?.phase).toBe("Failed");
      expect(last.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
      expect(await api.readNamespacedPodLog({ namespace: NS, name: "fails" })).toBe("about to fail\n");
    },
    T,
  );

  test(
    "a missing image waits in ErrImagePull then ImagePullBackOff; the pod stays Pending until deleted",
    async () => {
      const seen = until("no-image", (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ImagePullBackOff");
      await api.createNamespacedPod({
        namespace: NS,
        body: pod("no-image", {
          containers: [{ name: "main", image: "localhost/leoflow-no-such-image:1", imagePullPolicy: "IfNotPresent" }],
        }),
      });
      const events = await seen;
      const reasons = events.map((e) => e.pod.status?.containerStatuses?.[0]?.state?.waiting?.reason).filter(Boolean);
      expect(reasons).toContain("ErrImagePull");
      expect(phase(events)).toBe("Pending");
      const logs = await apiError(api.readNamespacedPodLog({ namespace: NS, name: "no-image" }));
      expect(logs.code).toBe(400);
      expect(logs.status.message).toMatch(/container "main" in pod "no-image" is waiting to start: (ErrImagePull|ImagePullBackOff)/);
      const gone = watchPods(kc, { fieldSelector: "metadata.name=no-image" }, (ev) => ev.some((e) => e.type === "DELETED")).done;
      await api.deleteNamespacedPod({ namespace: NS, name: "no-image", gracePeriodSeconds: 5 });
      await expect(gone).resolves.toBeDefined();
    },
    T,
  );

  test(
    "activeDeadlineSeconds fails a running pod with DeadlineExceeded",
    async () => {
      const seen = until("slow", (p) => p.status?.phase === "Failed");
      await api.createNamespacedPod({
        namespace: NS,
        body: pod("slow", {
          activeDeadlineSeconds: 1,
          terminationGracePeriodSeconds: 0,
          containers: [bash("main", "echo started; sleep 300")],
        }),
      });
      const last = (await seen).at(-1)!.pod;
      expect(last.status).toMatchObject({ phase: "Failed", reason: "DeadlineExceeded" });
      expect(last.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBeGreaterThan(128);
    },
    T,
  );

  test(
    "deleting a running pod marks it Terminating, stops its container, then the watch sees it DELETED",
    async () => {
      const running = until("victim", (p) => p.status?.phase === "Running");
      await api.createNamespacedPod({
        namespace: NS,
        body: pod("victim", { containers: [bash("main", "trap 'echo got TERM; exit 0' TERM; echo up; sleep 300 & wait")] }),
      });
      await running;
      // Running is the container's start, not its script's: the TERM trap is set once "up" is printed (a bash
      // that is PID 1 ignores a TERM that comes before its trap, and the kubelet kills it after the grace).
      for (const deadline = Date.now() + 30_000; !(await api.readNamespacedPodLog({ namespace: NS, name: "victim" })).includes("up"); ) {
        if (Date.now() > deadline) throw new Error("the victim pod never printed 'up'");
        await Bun.sleep(50);
      }
      const ended = watchPods(kc, { fieldSelector: "metadata.name=victim", resourceVersion: "0" }, (ev) =>
        ev.some((e) => e.type === "DELETED"),
      ).done;
      const marked = await api.deleteNamespacedPod({ namespace: NS, name: "victim", gracePeriodSeconds: 10 });
      expect(marked.metadata?.deletionTimestamp).toBeDefined();
      const events = await ended;
      const beforeGone = events.filter((e) => e.type === "MODIFIED").at(-1)!.pod;
      expect(beforeGone.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
      expect((await apiError(api.readNamespacedPod({ namespace: NS, name: "victim" }))).code).toBe(404);
    },
    T,
  );

  test(
    "an evicted pod fails with reason Evicted and the kubelet's message",
    async () => {
      const running = until("evictee", (p) => p.status?.phase === "Running");
      await api.createNamespacedPod({ namespace: NS, body: pod("evictee", { containers: [bash("main", "sleep 300")] }) });
      await running;
      const failed = until("evictee", (p) => p.status?.phase === "Failed");
      expect(await kube.evict(NS, "evictee")).toBe(true);
      expect((await failed).at(-1)!.pod.status).toMatchObject({
        phase: "Failed",
        reason: "Evicted",
        message: expect.stringContaining("low on resource: memory"),
      });
    },
    T,
  );

  test(
    "a container over its memory limit is OOMKilled",
    async () => {
      const seen = until("hungry", (p) => ["Succeeded", "Failed"].includes(p.status?.phase ?? ""));
      await api.createNamespacedPod({
        namespace: NS,
        body: pod("hungry", {
          containers: [
            bash("main", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived", { resources: { limits: { memory: "32Mi" } } }),
          ],
        }),
      });
      const last = (await seen).at(-1)!.pod;
      expect(last.status?.phase).toBe("Failed");
      expect(last.status?.containerStatuses?.[0]?.state?.terminated?.reason).toBe("OOMKilled");
    },
    T,
  );
});

describe.skipIf(!kubectlAvailable())("kubectl against KubeApiDouble", () => {
  let kube: KubeApiDouble;
  let api: CoreV1Api;
  let config: string;
  beforeAll(async () => {
    kube = await startKubeApiDouble({ namespaces: [NS], kubelet: false });
    ({ api } = clientFor(kube));
    config = kube.writeKubeconfig();
    await api.createNamespacedPod({ namespace: NS, body: pod("listed-1", {}, { run: "r1" }) });
    await api.createNamespacedPod({ namespace: NS, body: pod("listed-2", {}, { run: "r2" }) });
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "a-secret" }, stringData: { k: "v" } } });
  });
  afterAll(() => kube.stop());

  test(
    "lists pods (server-side table), by label, and gets one as JSON",
    async () => {
      const all = await kubectl(config, "get", "pods");
      expect(all.code).toBe(0);
      expect(all.out).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
      expect(all.out).toMatch(/^listed-1\s+0\/1\s+Pending\s+0\s+\d+s$/m);
      const byLabel = await kubectl(config, "get", "pods", "-l", "run=r2", "-o", "name");
      expect(byLabel.out.trim()).toBe("pod/listed-2");
      const one = await kubectl(config, "get", "pod", "listed-1", "-o", "json");
      expect(JSON.parse(one.out)).toMatchObject({
        kind: "Pod",
        metadata: { name: "listed-1", namespace: NS },
        status: { phase: "Pending" },
      });
      const secrets = await kubectl(config, "get", "secrets", "-o", "name");
      expect(secrets.out.trim()).toBe("secret/a-secret");
    },
    T,
  );

  test(
    "deletes a pod and waits for it to go; a missing pod is NotFound",
    async () => {
      const del = await kubectl(config, "delete", "pod", "listed-1");
      expect(del).toEqual({ code: 0, out: 'pod "listed-1" deleted\n' });
      const missing = await kubectl(config, "get", "pod", "listed-1");
      expect(missing.code).toBe(1);
      expect(missing.out.trim()).toBe('Error from server (NotFound): pods "listed-1" not found');
      expect((await kubectl(config, "get", "pods", "-o", "name")).out.trim()).toBe("pod/listed-2");
    },
    T,
  );
});
