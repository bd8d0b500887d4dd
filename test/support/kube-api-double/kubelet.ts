/**
 * The double's scheduler and kubelet, on one node: each pod created is bound to the node (once its claims
 * exist), its volumes are made, its init containers run one after the other and then its containers, all
 * through podman's Docker-compatible API. Every step is written to the pod's status and so streamed to
 * watchers: Pending (waiting ContainerCreating, PodInitializing, ErrImagePull/ImagePullBackOff,
 * CreateContainerConfigError) → Running → Succeeded or Failed (terminated Completed, Error or OOMKilled;
 * DeadlineExceeded after activeDeadlineSeconds). A deleted pod's containers are stopped within its grace
 * period, then the pod object goes. Pods run once: restartPolicy is treated as Never.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "./cluster";
import { resourceKey, timestamp } from "./cluster";
import { containerCreateBody, engineContainerName, LABELS, resolveEnv, type Lookup } from "./container-config";
import type { KubeletEngine } from "./engine";
import type { KubeObject, StoredEvent } from "./object-store";
import { findResource } from "./resources";
import type { LogOptions } from "./server";
import { badRequest } from "./status";
import { binds, prepareVolumes, provisionClaim, releaseClaim } from "./volumes";

export const NODE_NAME = "kube-api-double-node";
const POD = findResource("", "v1", "pods")!;
const PVC = findResource("", "v1", "persistentvolumeclaims")!;
const SECRET = findResource("", "v1", "secrets")!;
const CONFIG_MAP = findResource("", "v1", "configmaps")!;
const EVENT = findResource("", "v1", "events")!;

interface PodRun {
  pod: KubeObject;
  dir: string;
  containers: Map<string, string>;
  status: any;
  stopping: boolean;
  /** The pod object is being deleted (deletionTimestamp seen): once stopped, the kubelet removes it. */
  deleting: boolean;
  deadlineExceeded: boolean;
  /** Set by evict(): the message the pod fails with, reason Evicted. */
  evicted?: string;
  timer?: ReturnType<typeof setTimeout>;
  done?: Promise<void>;
}

export interface KubeletOptions {
  workDir: string;
  /** Instance id written on every container, so stop() removes only this double's containers. */
  instance: string;
  /** First wait between image pulls (doubling, up to 8 times it); the real kubelet starts at 10 s. */
  pullBackoffMs: number;
}

export class PodmanKubelet {
  private readonly runs = new Map<string, PodRun>();
  private unsubscribe = () => {};

  constructor(
    private readonly cluster: Cluster,
    private readonly engine: KubeletEngine,
    private readonly opts: KubeletOptions,
  ) {}

  start(): void {
    this.unsubscribe = this.cluster.store.subscribe((e) => void this.onEvent(e));
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    for (const r of this.runs.values()) {
      r.stopping = true;
      clearTimeout(r.timer);
    }
    const mine = await this.engine.listContainers([`${LABELS.double}=${this.opts.instance}`]).catch(() => []);
    await Promise.all(mine.map((c) => this.engine.removeContainer(c.Id, true).catch(() => {})));
    rmSync(this.opts.workDir, { recursive: true, force: true });
  }

  private async onEvent(e: StoredEvent): Promise<void> {
    const o = e.object;
    if (e.resource === resourceKey(PVC)) {
      if (e.type === "ADDED") this.bindClaim(o);
      if (e.type === "DELETED") releaseClaim(this.opts.workDir, o);
      return;
    }
    if (e.resource !== resourceKey(POD)) return;
    const run = this.runs.get(o.metadata.uid);
    if (e.type === "ADDED" && !run) {
      const r: PodRun = {
        pod: o,
        dir: join(this.opts.workDir, "pods", o.metadata.uid),
        containers: new Map(),
        status: o.status,
        stopping: false,
        deleting: false,
        deadlineExceeded: false,
      };
      this.runs.set(o.metadata.uid, r);
      r.done = this.runPod(r).catch((err) =>
        this.event(r.pod, "Warning", "FailedSync", `kube-api-double kubelet: ${(err as Error).message}`),
      );
    } else if (e.type === "MODIFIED" && run && o.metadata.deletionTimestamp && !run.deleting) {
      run.deleting = true;
      await this.terminate(run, o.metadata.deletionGracePeriodSeconds ?? 30);
      await run.done;
      this.cluster.finishPodDeletion(o.metadata.namespace!, o.metadata.name, o.metadata.uid);
    } else if (e.type === "DELETED" && run) {
      run.stopping = true;
      clearTimeout(run.timer);
      this.runs.delete(o.metadata.uid);
      await Promise.all([...run.containers.values()].map((id) => this.engine.removeContainer(id, true).catch(() => {})));
      rmSync(run.dir, { recursive: true, force: true });
    }
  }

  /** The storage provisioner: every claim is bound at once to a directory of its own. */
  private bindClaim(pvc: KubeObject): void {
    provisionClaim(this.opts.workDir, pvc);
    const current = this.cluster.store.get(resourceKey(PVC), pvc.metadata.namespace, pvc.metadata.name);
    if (!current || current.metadata.uid !== pvc.metadata.uid) return;
    current.spec.volumeName = `pvc-${pvc.metadata.uid}`;
    current.status = {
      phase: "Bound",
      accessModes: current.spec.accessModes,
      capacity: { storage: current.spec.resources.requests.storage },
    };
    this.cluster.store.replace(resourceKey(PVC), current);
  }

  private async runPod(r: PodRun): Promise<void> {
    const { pod } = r;
    const ns = pod.metadata.namespace!;
    const claims: string[] = (pod.spec.volumes ?? []).flatMap((v: any) =>
      v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
    );
    // The scheduler: a pod whose claim does not exist (or is going away) stays unscheduled.
    for (;;) {
      if (r.stopping) return;
      const missing = claims.find((c) => !this.claim(ns, c) || this.claim(ns, c)!.metadata.deletionTimestamp);
      if (!missing) break;
      const why = this.claim(ns, missing)
        ? `persistentvolumeclaim "${missing}" is being deleted`
        : `persistentvolumeclaim "${missing}" not found`;
      this.write(r, {
        phase: "Pending",
        qosClass: r.status.qosClass,
        conditions: [
          condition(
            "PodScheduled",
            "False",
            "Unschedulable",
            `0/1 nodes are available: ${why}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`,
          ),
        ],
      });
      await sleep(300);
    }
    r.pod = this.cluster.bindPod(ns, pod.metadata.name, NODE_NAME) ?? pod;
    this.event(pod, "Normal", "Scheduled", `Successfully assigned ${ns}/${pod.metadata.name} to ${NODE_NAME}`);
    const inits: any[] = pod.spec.initContainers ?? [];
    const mains: any[] = pod.spec.containers;
    const startTime = timestamp(new Date());
    this.write(r, {
      phase: "Pending",
      conditions: [
        condition("PodReadyToStartContainers", "False"),
        condition(
          "Initialized",
          inits.length ? "False" : "True",
          inits.length ? "ContainersNotInitialized" : undefined,
          inits.length ? `containers with incomplete status: [${inits.map((c) => c.name).join(" ")}]` : undefined,
        ),
        condition("Ready", "False", "ContainersNotReady", `containers with unready status: [${mains.map((c) => c.name).join(" ")}]`),
        condition(
          "ContainersReady",
          "False",
          "ContainersNotReady",
          `containers with unready status: [${mains.map((c) => c.name).join(" ")}]`,
        ),
        condition("PodScheduled", "True"),
      ],
      hostIP: "127.0.0.1",
      hostIPs: [{ ip: "127.0.0.1" }],
      podIP: "127.0.0.1",
      podIPs: [{ ip: "127.0.0.1" }],
      startTime,
      qosClass: r.status.qosClass,
      ...(inits.length ? { initContainerStatuses: inits.map((c) => containerStatus(c, { waiting: { reason: "PodInitializing" } })) } : {}),
      containerStatuses: mains.map((c) =>
        containerStatus(c, { waiting: { reason: inits.length ? "PodInitializing" : "ContainerCreating" } }),
      ),
    });
    if (pod.spec.activeDeadlineSeconds) r.timer = setTimeout(() => void this.deadline(r), pod.spec.activeDeadlineSeconds * 1000);

    let volumes: Map<string, string> | undefined;
    for (let warned = false; !volumes; warned = true) {
      if (r.stopping) return this.finish(r);
      const v = prepareVolumes(r.pod, r.dir, this.lookup(ns), (name) => this.claim(ns, name), this.opts.workDir);
      if (v.dirs) volumes = v.dirs;
      else {
        if (!warned) this.event(pod, "Warning", "FailedMount", v.waiting);
        await sleep(300);
      }
    }
    this.setCondition(r, "PodReadyToStartContainers", "True");

    for (const c of inits) {
      const code = await this.runContainer(r, c, "initContainerStatuses", volumes);
      if (code !== 0) return this.finish(r);
    }
    if (inits.length) {
      this.setCondition(r, "Initialized", "True");
      r.status.containerStatuses = mains.map((c) => containerStatus(c, { waiting: { reason: "ContainerCreating" } }));
      this.write(r, r.status);
    }
    await Promise.all(mains.map((c) => this.runContainer(r, c, "containerStatuses", volumes)));
    return this.finish(r);
  }

  /** Runs one container to its end; its exit code, or null when the pod stopped before it could start. */
  private async runContainer(
    r: PodRun,
    c: any,
    list: "initContainerStatuses" | "containerStatuses",
    volumes: Map<string, string>,
  ): Promise<number | null> {
    const pod = r.pod;
    const set = (state: object, extra: object = {}) => {
      r.status[list] = (r.status[list] as any[]).map((s) => (s.name === c.name ? { ...containerStatus(c, state), ...extra } : s));
      this.write(r, r.status);
    };
    for (let attempt = 0; ; attempt++) {
      if (r.stopping) return null;
      const problem = await this.ensureImage(c.image, c.imagePullPolicy);
      if (!problem) break;
      const never = c.imagePullPolicy === "Never";
      set({ waiting: { reason: never ? "ErrImageNeverPull" : "ErrImagePull", message: problem } });
      if (attempt === 0) this.event(pod, "Warning", "Failed", `Failed to pull image "${c.image}": ${problem}`);
      await sleep(this.opts.pullBackoffMs);
      if (r.stopping) return null;
      if (!never) set({ waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${c.image}"` } });
      await sleep(this.opts.pullBackoffMs * 2 ** Math.min(attempt, 3));
    }
    let env: Record<string, string> | undefined;
    while (!env) {
      if (r.stopping) return null;
      const resolved = resolveEnv(pod, c, this.lookup(pod.metadata.namespace!));
      const refusal = resolved.missing ?? (await this.nonRootRefusal(pod, c));
      if (!refusal) env = resolved.env;
      else {
        set({ waiting: { reason: "CreateContainerConfigError", message: refusal } });
        await sleep(300);
      }
    }
    const name = engineContainerName(pod, c);
    await this.engine.removeContainer(name, true).catch(() => {});
    let id: string;
    try {
      id = await this.engine.createContainer(name, containerCreateBody(pod, c, env, binds(pod, c, volumes), this.opts.instance));
      if (r.stopping) {
        // Deleted while the engine was creating it: the DELETED handler has already cleaned up.
        await this.engine.removeContainer(id, true).catch(() => {});
        return null;
      }
      r.containers.set(c.name, id);
      this.event(pod, "Normal", "Created", `Created container ${c.name}`);
      await this.engine.startContainer(id);
    } catch (e) {
      const now = timestamp(new Date());
      set({
        terminated: {
          exitCode: 128,
          reason: "StartError",
          message: (e as Error).message,
          startedAt: "1970-01-01T00:00:00Z",
          finishedAt: now,
        },
      });
      return 128;
    }
    const started = await this.engine.inspectContainer(id);
    const startedAt = timestamp(new Date(started?.State.StartedAt ?? Date.now()));
    this.event(pod, "Normal", "Started", `Started container ${c.name}`);
    set({ running: { startedAt } }, { ready: list === "containerStatuses", started: true, containerID: `docker://${id}` });
    if (list === "containerStatuses" && r.status.phase === "Pending" && !r.stopping) {
      r.status.phase = "Running";
      this.write(r, r.status);
    }
    if (list === "containerStatuses" && (r.status.containerStatuses as any[]).every((s) => s.ready)) {
      this.setCondition(r, "ContainersReady", "True");
      this.setCondition(r, "Ready", "True");
    }
    const code = await this.engine.wait(id);
    const info = await this.engine.inspectContainer(id);
    const exitCode = info?.State.ExitCode ?? code;
    // podman on cgroup v1 with cgroupfs (this sandbox) does not report OOM kills in inspect: a SIGKILL that
    // neither this kubelet (deletion, deadline) sent, in a container with a memory limit, is read as one.
    const limited = c.resources?.limits?.memory !== undefined;
    const oom = info?.State.OOMKilled || (exitCode === 137 && limited && !r.stopping);
    const reason = oom ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
    set(
      {
        terminated: {
          exitCode,
          reason,
          startedAt,
          finishedAt: timestamp(new Date(info?.State.FinishedAt ?? Date.now())),
          containerID: `docker://${id}`,
        },
      },
      { ready: false, started: false, containerID: `docker://${id}` },
    );
    return exitCode;
  }

  /** The pod's phase once nothing more will run: Succeeded when every container completed, else Failed. */
  private finish(r: PodRun): void {
    clearTimeout(r.timer);
    const all: any[] = [...(r.status.initContainerStatuses ?? []), ...(r.status.containerStatuses ?? [])];
    const failed = all.some((s) => s.state?.terminated && s.state.terminated.exitCode !== 0) || all.some((s) => !s.state?.terminated);
    // A waiting container that never ran ends as the kubelet reports it: terminated with ContainerStatusUnknown.
    for (const key of ["initContainerStatuses", "containerStatuses"])
      if (r.status[key])
        r.status[key] = (r.status[key] as any[]).map((s) =>
          s.state?.terminated || !r.stopping
            ? s
            : {
                ...s,
                state: {
                  terminated: {
                    exitCode: 137,
                    reason: "ContainerStatusUnknown",
                    message: "The container could not be located when the pod was terminated",
                  },
                },
              },
        );
    r.status.phase = failed ? "Failed" : "Succeeded";
    if (r.deadlineExceeded)
      Object.assign(r.status, {
        phase: "Failed",
        reason: "DeadlineExceeded",
        message: "Pod was active on the node longer than the specified deadline",
      });
    if (r.evicted) Object.assign(r.status, { phase: "Failed", reason: "Evicted", message: r.evicted });
    for (const type of ["Ready", "ContainersReady"]) this.setCondition(r, type, "False", "PodCompleted");
    this.setCondition(r, "PodReadyToStartContainers", "False");
  }

  /** Node-pressure eviction, as the kubelet does it: containers killed, the pod Failed with reason Evicted. */
  async evict(namespace: string, name: string, message: string): Promise<boolean> {
    const r = [...this.runs.values()].find((x) => x.pod.metadata.namespace === namespace && x.pod.metadata.name === name);
    if (!r || r.stopping) return false;
    r.evicted = message;
    this.event(r.pod, "Warning", "Evicted", message);
    await this.terminate(r, 0);
    await r.done;
    return true;
  }

  private async deadline(r: PodRun): Promise<void> {
    if (r.stopping) return;
    r.deadlineExceeded = true;
    this.event(r.pod, "Normal", "DeadlineExceeded", "Pod was active on the node longer than the specified deadline");
    await this.terminate(r, r.pod.spec.terminationGracePeriodSeconds ?? 30);
  }

  /** SIGTERM to every container, SIGKILL after the grace period (`docker stop -t`). */
  private async terminate(r: PodRun, graceSeconds: number): Promise<void> {
    r.stopping = true;
    clearTimeout(r.timer);
    for (const name of r.containers.keys()) this.event(r.pod, "Normal", "Killing", `Stopping container ${name}`);
    await Promise.all([...r.containers.values()].map((id) => this.engine.stopContainer(id, graceSeconds).catch(() => {})));
  }

  /** pods/log: the container's output, the way the real kubelet answers or refuses. */
  async podLogs(pod: KubeObject, opts: LogOptions): Promise<string | ReadableStream<Uint8Array>> {
    const mains: string[] = pod.spec.containers.map((c: any) => c.name);
    const inits: string[] = (pod.spec.initContainers ?? []).map((c: any) => c.name);
    const name = opts.container ?? (mains.length === 1 ? mains[0]! : undefined);
    if (!name)
      throw badRequest(
        `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${mains.join(" ")}]${inits.length ? ` or one of the init containers: [${inits.join(" ")}]` : ""}`,
      );
    if (![...mains, ...inits].includes(name)) throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
    if (opts.previous) throw badRequest(`previous terminated container "${name}" in pod "${pod.metadata.name}" not found`);
    const id = this.runs.get(pod.metadata.uid)?.containers.get(name);
    if (!id) {
      const s = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((x: any) => x.name === name);
      throw badRequest(
        `container "${name}" in pod "${pod.metadata.name}" is waiting to start: ${s?.state?.waiting?.reason ?? "ContainerCreating"}`,
      );
    }
    const tail = opts.tailLines;
    return opts.follow
      ? this.engine.followLogs(id, { tail, timestamps: opts.timestamps })
      : this.engine.logText(id, { tail, timestamps: opts.timestamps });
  }

  /** Whether the image is there per the pull policy; else the pull error, as the kubelet words it. */
  private async ensureImage(image: string, policy: string): Promise<string | undefined> {
    const present = await this.engine.imageExists(image);
    if (present && policy !== "Always") return undefined;
    if (policy === "Never") return `Container image "${image}" is not present with pull policy of Never`;
    try {
      await this.engine.pullImage(image);
      return undefined;
    } catch (e) {
      return `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": ${(e as Error).message}`;
    }
  }

  private async nonRootRefusal(pod: KubeObject, c: any): Promise<string | undefined> {
    const sc = { ...(pod.spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
    if (!sc.runAsNonRoot) return undefined;
    const where = `(pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${c.name})`;
    if (sc.runAsUser === 0) return `container's runAsUser breaks non-root policy ${where}`;
    if (sc.runAsUser !== undefined) return undefined;
    const user = await this.engine.imageUser(c.image);
    if (user === "" || user === "root" || user === "0" || user.startsWith("0:") || user.startsWith("root:"))
      return `container has runAsNonRoot and image will run as root ${where}`;
    if (!/^\d+(:\d+)?$/.test(user))
      return `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${where}`;
    return undefined;
  }

  private lookup(ns: string): Lookup {
    return (kind, name) => this.cluster.store.get(resourceKey(kind === "Secret" ? SECRET : CONFIG_MAP), ns, name);
  }

  private claim(ns: string, name: string): KubeObject | undefined {
    return this.cluster.store.get(resourceKey(PVC), ns, name);
  }

  private setCondition(r: PodRun, type: string, status: string, reason?: string): void {
    r.status.conditions = (r.status.conditions ?? []).map((c: any) => (c.type === type ? condition(type, status, reason) : c));
    this.write(r, r.status);
  }

  /** Writes the pod's status, unless the pod is gone or is another pod by now. */
  private write(r: PodRun, status: any): void {
    r.status = status;
    const current = this.cluster.store.get(resourceKey(POD), r.pod.metadata.namespace, r.pod.metadata.name);
    if (!current || current.metadata.uid !== r.pod.metadata.uid) return;
    this.cluster.updateStatus(POD, r.pod.metadata.namespace, r.pod.metadata.name, status);
  }

  private event(pod: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void {
    try {
      const now = timestamp(new Date());
      this.cluster.create(EVENT, pod.metadata.namespace, {
        metadata: { generateName: `${pod.metadata.name}.` },
        involvedObject: {
          kind: "Pod",
          namespace: pod.metadata.namespace,
          name: pod.metadata.name,
          uid: pod.metadata.uid,
          apiVersion: "v1",
        },
        reason,
        message,
        type,
        source: { component: "kubelet", host: NODE_NAME },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch {}
  }
}

function condition(type: string, status: string, reason?: string, message?: string) {
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: timestamp(new Date()),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

function containerStatus(c: any, state: object) {
  return { name: c.name, image: c.image, imageID: "", ready: false, restartCount: 0, started: false, state, lastState: {} };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
