/**
 * The double's etcd: objects by resource, namespace and name, one cluster-wide resourceVersion counter
 * bumped on every write, and a bounded history of change events so a watch can resume from any recent
 * resourceVersion (older ones answer 410 Expired, as a compacted etcd does). Objects go in and out as deep
 * copies: nothing outside can change a stored object without a write.
 */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  finalizers?: string[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  generation?: number;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [k: string]: any;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  resourceVersion: number;
  /** "<group>/<plural>", e.g. "/pods" or "apps/deployments". */
  resource: string;
  type: WatchEventType;
  object: KubeObject;
}

const HISTORY = 20_000;

export const clone = <T>(o: T): T => structuredClone(o);

export class ObjectStore {
  private rv = 1000;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoredEvent[] = [];
  private readonly listeners = new Set<(e: StoredEvent) => void>();

  get resourceVersion(): number {
    return this.rv;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.table(resource).get(key(namespace, name));
    return o && clone(o);
  }

  /** Every object of `resource` (in `namespace` when given), oldest first, with the list's resourceVersion. */
  list(resource: string, namespace?: string): { items: KubeObject[]; resourceVersion: number } {
    const items = [...this.table(resource).values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .map(clone);
    return { items, resourceVersion: this.rv };
  }

  /** Every stored object of every resource, for the garbage collector's owner lookups. */
  all(): { resource: string; object: KubeObject }[] {
    return [...this.objects.entries()].flatMap(([resource, t]) => [...t.values()].map((object) => ({ resource, object: clone(object) })));
  }

  hasUid(uid: string): boolean {
    for (const t of this.objects.values()) for (const o of t.values()) if (o.metadata.uid === uid) return true;
    return false;
  }

  /** Objects with an ownerReference to `uid`, for the garbage collector. */
  dependentsOf(uid: string): { resource: string; object: KubeObject }[] {
    const out: { resource: string; object: KubeObject }[] = [];
    for (const [resource, t] of this.objects)
      for (const o of t.values()) if (o.metadata.ownerReferences?.some((r) => r.uid === uid)) out.push({ resource, object: clone(o) });
    return out;
  }

  insert(resource: string, obj: KubeObject): KubeObject {
    return this.write(resource, obj, "ADDED");
  }

  replace(resource: string, obj: KubeObject): KubeObject {
    return this.write(resource, obj, "MODIFIED");
  }

  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const t = this.table(resource);
    const k = key(namespace, name);
    const o = t.get(k);
    if (!o) return undefined;
    t.delete(k);
    // The DELETED event carries the object at a new resourceVersion, as the real server sends it.
    o.metadata.resourceVersion = String(++this.rv);
    this.emit({ resourceVersion: this.rv, resource, type: "DELETED", object: o });
    return clone(o);
  }

  /** Events after `resourceVersion`, or null when the history no longer reaches back that far. */
  eventsSince(resourceVersion: number): StoredEvent[] | null {
    const first = this.history[0];
    if (first && resourceVersion < first.resourceVersion - 1) return null;
    return this.history.filter((e) => e.resourceVersion > resourceVersion).map(clone);
  }

  /** The oldest resourceVersion a watch may still start from. */
  get oldestResumable(): number {
    return (this.history[0]?.resourceVersion ?? this.rv + 1) - 1;
  }

  subscribe(fn: (e: StoredEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private write(resource: string, obj: KubeObject, type: WatchEventType): KubeObject {
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    this.table(resource).set(key(stored.metadata.namespace, stored.metadata.name), stored);
    this.emit({ resourceVersion: this.rv, resource, type, object: stored });
    return clone(stored);
  }

  private emit(e: StoredEvent): void {
    this.history.push(clone(e));
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const l of [...this.listeners]) l(clone(e));
  }

  private table(resource: string): Map<string, KubeObject> {
    let t = this.objects.get(resource);
    if (!t) this.objects.set(resource, (t = new Map()));
    return t;
  }
}

const key = (namespace: string | undefined, name: string) => `${namespace ?? ""}/${name}`;
