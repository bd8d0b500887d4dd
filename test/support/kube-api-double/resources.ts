/**
 * The resource types the double serves: what discovery (`/api/v1`, `/apis/...`) advertises, how URLs name
 * them, and the kubernetes-models class whose JSON schema every accepted object must pass. Pods, Secrets,
 * PersistentVolumeClaims and ConfigMaps are what the Kubernetes executor uses; the rest are stored only,
 * so `kubectl apply --dry-run` of deploy/kubernetes can map every kind it meets.
 */
import { ConfigMap, Event, Namespace, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";

interface Model {
  validate(): void;
}

export interface ResourceType {
  group: string;
  version: string;
  /** Plural, as in URLs: "pods". */
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  subresources?: string[];
  /** As the real registry: a DELETE answers with the object (pods) or with a Success Status (most others). */
  returnDeletedObject?: boolean;
  model: new (data: any) => Model;
}

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export const RESOURCES: ResourceType[] = [
  {
    group: "",
    version: "v1",
    name: "pods",
    singularName: "pod",
    kind: "Pod",
    namespaced: true,
    shortNames: ["po"],
    subresources: ["log", "status"],
    returnDeletedObject: true,
    model: Pod,
  },
  { group: "", version: "v1", name: "secrets", singularName: "secret", kind: "Secret", namespaced: true, model: Secret },
  {
    group: "",
    version: "v1",
    name: "configmaps",
    singularName: "configmap",
    kind: "ConfigMap",
    namespaced: true,
    shortNames: ["cm"],
    model: ConfigMap,
  },
  {
    group: "",
    version: "v1",
    name: "persistentvolumeclaims",
    singularName: "persistentvolumeclaim",
    kind: "PersistentVolumeClaim",
    namespaced: true,
    shortNames: ["pvc"],
    subresources: ["status"],
    returnDeletedObject: true,
    model: PersistentVolumeClaim,
  },
  { group: "", version: "v1", name: "events", singularName: "event", kind: "Event", namespaced: true, shortNames: ["ev"], model: Event },
  {
    group: "",
    version: "v1",
    name: "services",
    singularName: "service",
    kind: "Service",
    namespaced: true,
    shortNames: ["svc"],
    returnDeletedObject: true,
    model: Service,
  },
  {
    group: "",
    version: "v1",
    name: "serviceaccounts",
    singularName: "serviceaccount",
    kind: "ServiceAccount",
    namespaced: true,
    shortNames: ["sa"],
    model: ServiceAccount,
  },
  {
    group: "",
    version: "v1",
    name: "namespaces",
    singularName: "namespace",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
    returnDeletedObject: true,
    model: Namespace,
  },
  {
    group: "apps",
    version: "v1",
    name: "deployments",
    singularName: "deployment",
    kind: "Deployment",
    namespaced: true,
    shortNames: ["deploy"],
    returnDeletedObject: true,
    model: Deployment,
  },
  { group: "rbac.authorization.k8s.io", version: "v1", name: "roles", singularName: "role", kind: "Role", namespaced: true, model: Role },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    name: "rolebindings",
    singularName: "rolebinding",
    kind: "RoleBinding",
    namespaced: true,
    model: RoleBinding,
  },
];

export const groupVersion = (r: Pick<ResourceType, "group" | "version">) => (r.group ? `${r.group}/${r.version}` : r.version);

export function findResource(group: string, version: string, name: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.name === name);
}

export function findKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

/** GET /api/v1 or /apis/GROUP/VERSION: the APIResourceList kubectl and client-go discover kinds from. */
export function resourceList(group: string, version: string): object | undefined {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!rs.length) return undefined;
  const resources = rs.flatMap((r) => [
    {
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ALL_VERBS,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.name === "pods" ? { categories: ["all"] } : {}),
    },
    ...(r.subresources ?? []).map((s) => ({
      name: `${r.name}/${s}`,
      singularName: "",
      namespaced: r.namespaced,
      kind: s === "log" ? "Pod" : r.kind,
      verbs: s === "log" ? ["get"] : ["get", "patch", "update"],
    })),
  ]);
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersion({ group, version }), resources };
}

/** GET /apis: the API groups besides the core one. */
export function groupList(): object {
  const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))].map((name) => {
    const gv = { groupVersion: `${name}/v1`, version: "v1" };
    return { name, versions: [gv], preferredVersion: gv };
  });
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}
