/**
 * The HTTP face of the double: the URL layout, verbs, query parameters and bodies of the Kubernetes API
 * (discovery, list/get/create/update/patch/delete, `?watch=1` streams of `{type, object}` JSON lines,
 * pods/log, Table output for kubectl) mapped onto the Cluster. Errors are Status bodies with the real
 * reasons and codes. Optional bearer-token check and per-verb denials stand in for authn/RBAC.
 */
import type { Cluster, DeleteOptions } from "./cluster";
import { resourceKey } from "./cluster";
import type { KubeObject, StoredEvent } from "./object-store";
import { findResource, groupList, groupVersion, resourceList, type ResourceType } from "./resources";
import { parseFieldSelector, parseLabelSelector } from "./selectors";
import { ApiStatusError, badRequest, forbidden, gone, methodNotAllowed, notFound, unauthorized, type Status } from "./status";
import { age, podTableRow, POD_COLUMNS } from "./table";

export interface LogOptions {
  container?: string;
  tailLines?: number;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
}

export interface ServerHooks {
  /** pods/log: the container's output as text, or a stream when following. */
  podLogs(pod: KubeObject, opts: LogOptions): Promise<string | ReadableStream<Uint8Array>>;
  /** Every request, for tests that want to see what a client sent (method, path and query, body). */
  onRequest?(r: { method: string; url: string; body: unknown }): void;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}

export interface AccessRules {
  token?: string;
  /** When set, only what these Role rules allow is served (RBAC, as for a namespaced Role); the rest is 403. */
  rules?: PolicyRule[];
  /** "verb resource" pairs answered 403, e.g. "create pods". */
  denied: Set<string>;
  /** The user named in 403 messages. */
  user: string;
}

const VERSION = {
  major: "1",
  minor: "30",
  gitVersion: "v1.30.0-kube-api-double",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.22.0",
  compiler: "gc",
  platform: "linux/amd64",
};
const encoder = new TextEncoder();

export function handler(cluster: Cluster, hooks: ServerHooks, access: AccessRules): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    try {
      if (access.token !== undefined && req.headers.get("authorization") !== `Bearer ${access.token}`) throw unauthorized();
      const discovery = discover(url.pathname);
      if (discovery) return json(discovery);
      const body = ["POST", "PUT", "PATCH", "DELETE"].includes(req.method) ? await readBody(req) : undefined;
      hooks.onRequest?.({ method: req.method, url: url.pathname + url.search, body });
      return await route(cluster, hooks, access, req, url, body);
    } catch (e) {
      if (e instanceof ApiStatusError) return json(e.status, e.status.code);
      const status: Status = {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: `kube-api-double: ${(e as Error).stack ?? e}`,
        reason: "InternalError",
        code: 500,
      };
      return json(status, 500);
    }
  };
}

function discover(path: string): object | undefined {
  if (path === "/version" || path === "/version/") return VERSION;
  if (path === "/api" || path === "/api/")
    return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] };
  if (path === "/apis" || path === "/apis/") return groupList();
  if (path === "/api/v1" || path === "/api/v1/") return resourceList("", "v1");
  const m = /^\/apis\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (m) return resourceList(m[1]!, m[2]!) ?? undefined;
  if (["/healthz", "/readyz", "/livez"].includes(path)) return undefined;
  return undefined;
}

interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  sub?: string;
  legacyWatch: boolean;
}

function parsePath(path: string): Target {
  let m = /^\/api\/v1\/(.*)$/.exec(path);
  let group = "";
  let version = "v1";
  if (!m) {
    const g = /^\/apis\/([^/]+)\/([^/]+)\/(.*)$/.exec(path);
    if (!g) throw notFound("", path.slice(1));
    [group, version] = [g[1]!, g[2]!];
    m = [g[0], g[3]!] as unknown as RegExpExecArray;
  }
  const parts = m[1]!.split("/").filter(Boolean).map(decodeURIComponent);
  const legacyWatch = parts[0] === "watch";
  if (legacyWatch) parts.shift();
  let namespace: string | undefined;
  if (parts[0] === "namespaces" && parts.length >= 3) {
    namespace = parts[1];
    parts.splice(0, 2);
  }
  const [resource, name, sub] = parts as [string, string?, string?];
  const type = findResource(group, version, resource ?? "");
  if (!type) throw notFound("", path.slice(1));
  if (type.namespaced !== (namespace !== undefined) && name !== undefined) throw notFound(type.name, name, type.group);
  return { type, namespace, name, sub, legacyWatch };
}

async function route(cluster: Cluster, hooks: ServerHooks, access: AccessRules, req: Request, url: URL, body: unknown): Promise<Response> {
  if (["/healthz", "/readyz", "/livez"].includes(url.pathname)) return new Response("ok", { headers: { "content-type": "text/plain" } });
  if (url.pathname.startsWith("/openapi/")) throw notFound("", url.pathname.slice(1));
  const t = parsePath(url.pathname);
  const q = url.searchParams;
  const dryRun = q.getAll("dryRun").includes("All");
  const { type, namespace: ns, name, sub } = t;
  const watching = t.legacyWatch || q.get("watch") === "1" || q.get("watch") === "true";
  const verb =
    req.method === "GET"
      ? watching
        ? "watch"
        : name
          ? "get"
          : "list"
      : req.method === "POST"
        ? "create"
        : req.method === "PUT"
          ? "update"
          : req.method === "PATCH"
            ? "patch"
            : req.method === "DELETE"
              ? name
                ? "delete"
                : "deletecollection"
              : "";
  const resourceName = sub ? `${type.name}/${sub}` : type.name;
  if (!verb) throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  const allowedByRole =
    !access.rules ||
    access.rules.some((r) => matches(r.apiGroups, type.group) && matches(r.resources, resourceName) && matches(r.verbs, verb));
  if (!allowedByRole || access.denied.has(`${verb} ${resourceName}`) || access.denied.has(`* ${resourceName}`))
    throw forbidden(
      `${resourceName}${name ? ` "${name}"` : ""} is forbidden: User "${access.user}" cannot ${verb} resource "${type.name}"${sub ? ` (subresource "${sub}")` : ""} in API group "${type.group}"${ns ? ` in the namespace "${ns}"` : ""}`,
      type.name,
      name ?? "",
    );

  if (sub === "log") {
    if (verb !== "get" || type.kind !== "Pod") throw methodNotAllowed("pods/log only answers GET");
    const pod = cluster.get(type, ns, name!);
    const tail = q.get("tailLines");
    const out = await hooks.podLogs(pod, {
      container: q.get("container") ?? undefined,
      tailLines: tail === null ? undefined : Number(tail),
      follow: q.get("follow") === "true" || q.get("follow") === "1",
      previous: q.get("previous") === "true",
      timestamps: q.get("timestamps") === "true",
    });
    return new Response(out, { headers: { "content-type": "text/plain" } });
  }
  if (sub === "status") {
    if (verb === "get") return json(cluster.get(type, ns, name!));
    throw methodNotAllowed("the status subresource is written by the double's kubelet only");
  }
  if (sub) throw notFound(resourceName, name ?? "");

  const selectors = { labelSelector: q.get("labelSelector"), fieldSelector: q.get("fieldSelector") };
  switch (verb) {
    case "watch":
      return watch(cluster, type, ns, { ...selectors, name }, q, req.signal);
    case "get": {
      const obj = cluster.get(type, ns, name!);
      return wantsTable(req) ? json(table(type, [obj], obj.metadata.resourceVersion)) : json(obj);
    }
    case "list": {
      const { items, resourceVersion } = cluster.list(type, ns, selectors);
      const page = paginate(items, q);
      if (wantsTable(req)) return json(table(type, page.items, String(resourceVersion), page.continue));
      return json({
        kind: `${type.kind}List`,
        apiVersion: groupVersion(type),
        metadata: {
          resourceVersion: String(resourceVersion),
          ...(page.continue ? { continue: page.continue, remainingItemCount: page.remaining } : {}),
        },
        items: page.items.map(({ apiVersion, kind, ...rest }) => rest),
      });
    }
    case "create":
      return json(cluster.create(type, ns, body, { dryRun }), 201);
    case "update":
      return json(cluster.update(type, ns, name!, body, { dryRun }));
    case "patch":
      return json(cluster.patch(type, ns, name!, req.headers.get("content-type") ?? "", body, { dryRun }));
    case "delete": {
      const opts = deleteOptions(q, body, dryRun);
      const out = cluster.delete(type, ns, name!, opts);
      // The real server answers 202 Accepted while a deletion waits on finalizers or a grace period.
      const pending =
        (out as KubeObject).metadata?.deletionTimestamp !== undefined && cluster.store.get(resourceKey(type), ns, name!) !== undefined;
      return json(out, pending && !type.returnDeletedObject ? 202 : 200);
    }
    case "deletecollection": {
      cluster.deleteCollection(type, ns, selectors, deleteOptions(q, body, dryRun));
      return json({
        kind: `${type.kind}List`,
        apiVersion: groupVersion(type),
        metadata: { resourceVersion: String(cluster.store.resourceVersion) },
        items: [],
      });
    }
  }
  throw methodNotAllowed("unsupported");
}

const matches = (list: string[] | undefined, value: string) => !!list && (list.includes("*") || list.includes(value));

function deleteOptions(q: URLSearchParams, body: unknown, dryRun: boolean): DeleteOptions {
  const b = (body && typeof body === "object" ? body : {}) as DeleteOptions & { dryRun?: string[] };
  const grace = q.get("gracePeriodSeconds");
  return {
    gracePeriodSeconds: grace !== null ? Number(grace) : b.gracePeriodSeconds,
    propagationPolicy: (q.get("propagationPolicy") as DeleteOptions["propagationPolicy"]) ?? b.propagationPolicy,
    preconditions: b.preconditions,
    dryRun: dryRun || (Array.isArray(b.dryRun) && b.dryRun.includes("All")),
  };
}

function paginate(items: KubeObject[], q: URLSearchParams): { items: KubeObject[]; continue?: string; remaining?: number } {
  const limit = Number(q.get("limit") ?? 0);
  const token = q.get("continue");
  let start = 0;
  if (token) {
    start = Number(Buffer.from(token, "base64url").toString());
    if (!Number.isInteger(start)) throw badRequest(`invalid continue token: ${token}`);
  }
  if (!(limit > 0)) return { items: items.slice(start) };
  const end = start + limit;
  if (end >= items.length) return { items: items.slice(start) };
  return { items: items.slice(start, end), continue: Buffer.from(String(end)).toString("base64url"), remaining: items.length - end };
}

/**
 * A watch stream: one JSON line `{"type","object"}` per change. Without a resourceVersion (or "0") it
 * starts with an ADDED for each current object, as the real server does; with one, it replays the changes
 * after it, or sends an ERROR with a 410 Expired Status when that version is older than the history.
 */
function watch(
  cluster: Cluster,
  type: ResourceType,
  ns: string | undefined,
  sel: { labelSelector: string | null; fieldSelector: string | null; name?: string },
  q: URLSearchParams,
  signal: AbortSignal,
): Response {
  const labels = parseLabelSelector(sel.labelSelector);
  const fields = parseFieldSelector(sel.fieldSelector, type.kind);
  const key = resourceKey(type);
  const matches = (o: KubeObject) =>
    (ns === undefined || o.metadata.namespace === ns) &&
    (!sel.name || o.metadata.name === sel.name) &&
    labels(o.metadata.labels) &&
    fields(o);
  const rv = q.get("resourceVersion");
  const timeout = Number(q.get("timeoutSeconds") ?? 0);
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const send = (type: string, object: unknown) =>
        !closed && controller.enqueue(encoder.encode(JSON.stringify({ type, object }) + "\n"));
      const close = () => {
        if (closed) return;
        cleanup();
        closed = true;
        controller.close();
      };
      const forward = (e: StoredEvent) => e.resource === key && matches(e.object) && send(e.type, e.object);
      const unsubscribe = cluster.store.subscribe(forward);
      const timer = timeout > 0 ? setTimeout(close, timeout * 1000) : undefined;
      const onAbort = () => close();
      cleanup = () => {
        unsubscribe();
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      signal.addEventListener("abort", onAbort);
      if (!rv || rv === "0") {
        for (const o of cluster.list(type, ns).items) if (matches(o)) send("ADDED", o);
        return;
      }
      const since = cluster.store.eventsSince(Number(rv));
      if (since === null || !/^\d+$/.test(rv)) {
        send("ERROR", gone(`too old resource version: ${rv} (${cluster.store.oldestResumable})`).status);
        close();
        return;
      }
      for (const e of since) forward(e);
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, { headers: { "content-type": "application/json", "cache-control": "no-cache" } });
}

const wantsTable = (req: Request) => /as=Table/.test(req.headers.get("accept") ?? "");

/** The server-side printing kubectl asks for (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`). */
function table(type: ResourceType, items: KubeObject[], resourceVersion: string, cont?: string): object {
  const pods = type.kind === "Pod";
  const columns = pods
    ? POD_COLUMNS
    : [
        { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
        {
          name: "Age",
          type: "string",
          format: "",
          description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
          priority: 0,
        },
      ];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion, ...(cont ? { continue: cont } : {}) },
    columnDefinitions: columns,
    rows: items.map((o) => ({
      cells: pods ? podTableRow(o, new Date()) : [o.metadata.name, age(o.metadata.creationTimestamp, new Date())],
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}

async function readBody(req: Request): Promise<unknown> {
  const text = await req.text();
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // kubectl and client-node send JSON; YAML bodies (server-side apply) are not served by the double.
    throw badRequest(
      `the body of the request was in an unknown format - accepted media types include: application/json; got: ${text.slice(0, 60)}`,
    );
  }
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
