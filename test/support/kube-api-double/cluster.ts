/**
 * The API server's semantics on top of the object store, independent of HTTP: defaulting, validation and
 * admission on create; optimistic concurrency on update; merge and JSON patches; graceful pod deletion
 * (deletionTimestamp first, the kubelet removes the pod once its containers stopped; unbound or finished
 * pods go at once); finalizers; the PVC-protection finalizer (a claim in use by a live pod stays
 * Terminating); and the garbage collector (an object whose every ownerReference is gone is deleted).
 */
import { randomUUID } from "node:crypto";
import { clone, ObjectStore, type KubeObject } from "./object-store";
import { findResource, groupVersion, RESOURCES, type ResourceType } from "./resources";
import { parseFieldSelector, parseLabelSelector } from "./selectors";
import {
  alreadyExists,
  badRequest,
  cause,
  conflict,
  forbidden,
  invalid,
  notFound,
  success,
  unsupportedMediaType,
  type Status,
} from "./status";
import { applyJsonPatch, mergePatch } from "./patch";
import { validateObject } from "./validation";

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export const PVC_PROTECTION = "kubernetes.io/pvc-protection";
const TERMINAL = new Set(["Succeeded", "Failed"]);

export const resourceKey = (t: Pick<ResourceType, "group" | "name">) => `${t.group}/${t.name}`;
const typeOf = (key: string) => RESOURCES.find((r) => resourceKey(r) === key)!;
const POD = findResource("", "v1", "pods")!;
const PVC = findResource("", "v1", "persistentvolumeclaims")!;
const NAMESPACE = findResource("", "v1", "namespaces")!;
const SERVICE_ACCOUNT = findResource("", "v1", "serviceaccounts")!;

export class Cluster {
  readonly store = new ObjectStore();

  constructor(
    namespaces: string[],
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const ns of new Set(["default", ...namespaces])) this.ensureNamespace(ns);
    this.store.subscribe((e) => {
      if (e.type === "DELETED") this.collectGarbage(e.object.metadata.uid);
      if (e.resource === resourceKey(POD) || e.resource === resourceKey(PVC)) this.releaseClaims(e.object.metadata.namespace!);
    });
  }

  ensureNamespace(name: string): void {
    if (this.store.get(resourceKey(NAMESPACE), undefined, name)) return;
    this.create(NAMESPACE, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }

  get(type: ResourceType, ns: string | undefined, name: string): KubeObject {
    const o = this.store.get(resourceKey(type), ns, name);
    if (!o) throw notFound(type.name, name, type.group);
    return o;
  }

  list(type: ResourceType, ns: string | undefined, q: { labelSelector?: string | null; fieldSelector?: string | null } = {}) {
    const labels = parseLabelSelector(q.labelSelector ?? null);
    const fields = parseFieldSelector(q.fieldSelector ?? null, type.kind);
    const { items, resourceVersion } = this.store.list(resourceKey(type), ns);
    return { items: items.filter((o) => labels(o.metadata.labels) && fields(o)), resourceVersion };
  }

  create(type: ResourceType, ns: string | undefined, body: any, opts: { dryRun?: boolean } = {}): KubeObject {
    const obj = this.checkEnvelope(type, ns, body);
    if (type.namespaced) this.requireNamespace(ns!);
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = obj.metadata.generateName + randomSuffix();
    for (const f of ["uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"])
      delete obj.metadata[f];
    applyDefaults(type, obj, true);
    const causes = validateObject(type, obj);
    if (causes.length) throw invalid(type.kind, obj.metadata.name ?? "", causes, type.group);
    if (type === POD) this.admitPod(obj);
    if (this.store.get(resourceKey(type), ns, obj.metadata.name)) throw alreadyExists(type.name, obj.metadata.name, type.group);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = timestamp(this.now());
    if (type.kind === "Deployment") obj.metadata.generation = 1;
    if (opts.dryRun) return { ...obj, metadata: { ...obj.metadata, resourceVersion: "" } };
    const stored = this.store.insert(resourceKey(type), obj);
    if (type === NAMESPACE)
      this.create(SERVICE_ACCOUNT, stored.metadata.name, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } });
    // The garbage collector deletes an object created with owners that no longer exist (soon, not before we answer).
    if (stored.metadata.ownerReferences?.length) setTimeout(() => this.collectIfOrphaned(type, stored), 0);
    return stored;
  }

  /** PUT: the whole object; `status` is the status subresource's, so it is kept as stored. */
  update(type: ResourceType, ns: string | undefined, name: string, body: any, opts: { dryRun?: boolean } = {}): KubeObject {
    const current = this.get(type, ns, name);
    const obj = this.checkEnvelope(type, ns, body);
    if (obj.metadata.name !== name)
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(type.name, name);
    if (obj.metadata.uid && obj.metadata.uid !== current.metadata.uid) throw conflict(type.name, name);
    for (const f of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] as const)
      if (current.metadata[f] === undefined) delete obj.metadata[f];
      else obj.metadata[f] = current.metadata[f] as never;
    applyDefaults(type, obj, false);
    if ("status" in current) obj.status = current.status;
    else delete obj.status;
    const causes = validateObject(type, obj);
    if (type === POD) causes.push(...podUpdateCauses(current.spec, obj.spec));
    if (type === PVC && JSON.stringify(current.spec.accessModes) !== JSON.stringify(obj.spec.accessModes))
      causes.push(
        cause.forbidden(
          "spec",
          "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ),
      );
    if (causes.length) throw invalid(type.kind, name, causes, type.group);
    if (type.kind === "Deployment" && JSON.stringify(current.spec) !== JSON.stringify(obj.spec))
      obj.metadata.generation = (current.metadata.generation ?? 1) + 1;
    if (opts.dryRun) return obj;
    return this.finishIfFinalized(type, this.store.replace(resourceKey(type), obj));
  }

  /** What the kubelet and controllers write: the status subresource only. */
  updateStatus(type: ResourceType, ns: string | undefined, name: string, status: unknown): KubeObject | undefined {
    const current = this.store.get(resourceKey(type), ns, name);
    if (!current) return undefined;
    current.status = status;
    return this.store.replace(resourceKey(type), current);
  }

  /** The scheduler's binding: the pod is on the double's one node from now on. */
  bindPod(ns: string, name: string, nodeName: string): KubeObject | undefined {
    const current = this.store.get(resourceKey(POD), ns, name);
    if (!current || current.spec.nodeName) return current;
    current.spec.nodeName = nodeName;
    return this.store.replace(resourceKey(POD), current);
  }

  patch(
    type: ResourceType,
    ns: string | undefined,
    name: string,
    contentType: string,
    patch: unknown,
    opts: { dryRun?: boolean } = {},
  ): KubeObject {
    const current = this.get(type, ns, name);
    let next: any;
    const media = contentType.split(";")[0]!.trim();
    if (media === "application/json-patch+json") next = applyJsonPatch(current, patch);
    // Strategic merge is read as a JSON merge patch: lists are replaced, not merged by key (documented gap).
    else if (media === "application/merge-patch+json" || media === "application/strategic-merge-patch+json")
      next = mergePatch(current, patch);
    // Server-side apply (application/apply-patch+yaml) is not served by the double.
    else throw unsupportedMediaType(media);
    if (!("resourceVersion" in ((patch as any)?.metadata ?? {}))) next.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.update(type, ns, name, next, opts);
  }

  delete(type: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject | Status {
    const current = this.get(type, ns, name);
    if (opts.preconditions?.uid && opts.preconditions.uid !== current.metadata.uid) throw conflict(type.name, name);
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== current.metadata.resourceVersion)
      throw conflict(type.name, name);
    if (opts.dryRun)
      return type.returnDeletedObject ? current : success({ name, group: type.group, kind: type.name, uid: current.metadata.uid });
    const grace = type === POD ? podGracePeriod(current, opts.gracePeriodSeconds) : 0;
    if (current.metadata.finalizers?.length || grace > 0) {
      if (current.metadata.deletionTimestamp && !(grace < (current.metadata.deletionGracePeriodSeconds ?? Infinity))) return current;
      current.metadata.deletionTimestamp ??= timestamp(this.now());
      current.metadata.deletionGracePeriodSeconds = grace;
      const marked = this.store.replace(resourceKey(type), current);
      if (type === PVC) this.releaseClaims(ns!);
      return marked;
    }
    const removed = this.store.remove(resourceKey(type), ns, name)!;
    if (type === NAMESPACE)
      for (const { resource, object } of this.store.all())
        if (object.metadata.namespace === name) this.store.remove(resource, name, object.metadata.name);
    return type.returnDeletedObject ? removed : success({ name, group: type.group, kind: type.name, uid: removed.metadata.uid });
  }

  deleteCollection(
    type: ResourceType,
    ns: string | undefined,
    q: { labelSelector?: string | null; fieldSelector?: string | null },
    opts: DeleteOptions,
  ) {
    const { items } = this.list(type, ns, q);
    for (const o of items) this.delete(type, ns, o.metadata.name, opts);
    return items;
  }

  /** The kubelet's last word on a pod being deleted: its containers are gone, so the object goes too. */
  finishPodDeletion(ns: string, name: string, uid: string): void {
    const current = this.store.get(resourceKey(POD), ns, name);
    if (!current || current.metadata.uid !== uid || !current.metadata.deletionTimestamp) return;
    current.metadata.deletionGracePeriodSeconds = 0;
    if (current.metadata.finalizers?.length) this.store.replace(resourceKey(POD), current);
    else this.store.remove(resourceKey(POD), ns, name);
  }

  private finishIfFinalized(type: ResourceType, obj: KubeObject): KubeObject {
    if (
      obj.metadata.deletionTimestamp &&
      !obj.metadata.finalizers?.length &&
      !(type === POD && (obj.metadata.deletionGracePeriodSeconds ?? 0) > 0)
    )
      return this.store.remove(resourceKey(type), obj.metadata.namespace, obj.metadata.name) ?? obj;
    return obj;
  }

  /** The envelope checks the real server makes before decoding: kind and apiVersion match the URL, namespace too. */
  private checkEnvelope(type: ResourceType, ns: string | undefined, body: any): KubeObject {
    if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("the body of the request is not a JSON object");
    const obj = clone(body) as KubeObject;
    const gv = groupVersion(type);
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv)
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
    if (obj.kind !== undefined && obj.kind !== type.kind)
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${type.kind})`);
    obj.apiVersion = gv;
    obj.kind = type.kind;
    obj.metadata = (obj.metadata ?? {}) as KubeObject["metadata"];
    if (type.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== ns)
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      obj.metadata.namespace = ns;
    } else delete obj.metadata.namespace;
    return obj;
  }

  private requireNamespace(ns: string): void {
    const n = this.store.get(resourceKey(NAMESPACE), undefined, ns);
    if (!n) throw notFound("namespaces", ns);
    if (n.metadata.deletionTimestamp)
      throw forbidden(`unable to create new content in namespace ${ns} because it is being terminated`, "namespaces", ns);
  }

  /** The ServiceAccount admission plugin: a pod may only name a service account that exists. */
  private admitPod(pod: KubeObject): void {
    const sa = pod.spec.serviceAccountName;
    if (!this.store.get(resourceKey(SERVICE_ACCOUNT), pod.metadata.namespace, sa))
      throw forbidden(
        `pods "${pod.metadata.name}" is forbidden: error looking up service account ${pod.metadata.namespace}/${sa}: serviceaccount "${sa}" not found`,
        "pods",
        pod.metadata.name,
      );
  }

  private collectGarbage(ownerUid: string): void {
    for (const { resource, object } of this.store.dependentsOf(ownerUid)) this.collectIfOrphaned(typeOf(resource), object);
  }

  private collectIfOrphaned(type: ResourceType, obj: KubeObject): void {
    const owners = obj.metadata.ownerReferences ?? [];
    if (!owners.length || owners.some((o) => this.store.hasUid(o.uid))) return;
    try {
      this.delete(type, obj.metadata.namespace, obj.metadata.name, { propagationPolicy: "Background" });
    } catch {}
  }

  /** The PVC-protection controller: a Terminating claim goes once no pod that is not finished mounts it. */
  private releaseClaims(ns: string): void {
    const pods = this.store.list(resourceKey(POD), ns).items.filter((p) => !TERMINAL.has(p.status?.phase));
    for (const pvc of this.store.list(resourceKey(PVC), ns).items) {
      if (!pvc.metadata.deletionTimestamp || !pvc.metadata.finalizers?.includes(PVC_PROTECTION)) continue;
      const inUse = pods.some((p) => (p.spec.volumes ?? []).some((v: any) => v.persistentVolumeClaim?.claimName === pvc.metadata.name));
      if (inUse) continue;
      pvc.metadata.finalizers = pvc.metadata.finalizers.filter((f) => f !== PVC_PROTECTION);
      this.finishIfFinalized(PVC, this.store.replace(resourceKey(PVC), pvc));
    }
  }
}

/** Grace period of a pod deletion: 0 for a pod never bound to a node or already finished, as the real strategy. */
function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  if (!pod.spec.nodeName || TERMINAL.has(pod.status?.phase)) return 0;
  return requested ?? pod.spec.terminationGracePeriodSeconds ?? 30;
}

/** The defaults the real server writes into objects it stores (the ones clients commonly read back). */
function applyDefaults(type: ResourceType, obj: KubeObject, creating: boolean): void {
  if (type.kind === "Pod") {
    const spec = (obj.spec ??= {});
    spec.restartPolicy ??= "Always";
    spec.terminationGracePeriodSeconds ??= 30;
    spec.dnsPolicy ??= "ClusterFirst";
    spec.schedulerName ??= "default-scheduler";
    spec.securityContext ??= {};
    spec.serviceAccountName ??= spec.serviceAccount ?? "default";
    spec.serviceAccount = spec.serviceAccountName;
    spec.enableServiceLinks ??= true;
    spec.priority ??= 0;
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      if (!c || typeof c !== "object") continue;
      const tag = typeof c.image === "string" ? /:([^:/@]+)$/.exec(c.image)?.[1] : undefined;
      c.imagePullPolicy ??= !tag || tag === "latest" ? "Always" : "IfNotPresent";
      c.terminationMessagePath ??= "/dev/termination-log";
      c.terminationMessagePolicy ??= "File";
      c.resources ??= {};
      for (const p of c.ports ?? []) p.protocol ??= "TCP";
    }
    if (creating) obj.status = { phase: "Pending", qosClass: qosClass(spec) };
  }
  if (type.kind === "Secret") {
    obj.type ??= "Opaque";
    if (obj.stringData) {
      obj.data = { ...(obj.data ?? {}) };
      for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString("base64");
      delete obj.stringData;
    }
  }
  if (type.kind === "PersistentVolumeClaim") {
    (obj.spec ??= {}).volumeMode ??= "Filesystem";
    if (creating) {
      obj.metadata.finalizers = [...new Set([...(obj.metadata.finalizers ?? []), PVC_PROTECTION])];
      obj.status = { phase: "Pending" };
    }
  }
}

function qosClass(spec: any): string {
  const cs = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const has = (c: any) => Object.keys(c?.resources?.limits ?? {}).length || Object.keys(c?.resources?.requests ?? {}).length;
  if (!cs.some(has)) return "BestEffort";
  const guaranteed = cs.every((c: any) =>
    ["cpu", "memory"].every(
      (r) => c?.resources?.limits?.[r] !== undefined && (c.resources.requests?.[r] ?? c.resources.limits[r]) === c.resources.limits[r],
    ),
  );
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** A pod's spec is immutable but for images, activeDeadlineSeconds and added tolerations (the real rule, short). */
function podUpdateCauses(before: any, after: any) {
  const strip = (s: any) => {
    const c = clone(s ?? {});
    delete c.activeDeadlineSeconds;
    delete c.tolerations;
    for (const k of ["containers", "initContainers"]) for (const x of c[k] ?? []) delete x.image;
    return JSON.stringify(c);
  };
  return strip(before) === strip(after)
    ? []
    : [
        cause.forbidden(
          "spec",
          "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ),
      ];
}

export const timestamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const randomSuffix = () => Array.from({ length: 5 }, () => "bcdfghjklmnpqrstvwxz2456789"[Math.floor(Math.random() * 27)]).join("");
