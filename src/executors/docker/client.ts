/**
 * DockerClient: the few Docker Engine API calls the executor needs, over HTTP on the engine's unix socket
 * (Bun's `fetch(url, { unix })`) or TCP. No CLI, no SDK. Works with Docker and with podman's
 * Docker-compatible service. An engine that does not answer is a DockerUnreachableError whose message says
 * where it looked and how to fix it; an engine that answers with an error is a DockerApiError.
 *
 * @example await new DockerClient("unix:///var/run/docker.sock").ping()
 */
import { LeoflowError } from "../../domain";

const API = "/v1.41";

export class DockerUnreachableError extends LeoflowError {}

export class DockerApiError extends LeoflowError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: {
    Status: string;
    Running: boolean;
    OOMKilled: boolean;
    Dead: boolean;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
  };
  Config: { Labels: Record<string, string> | null; Image: string };
  HostConfig: { Memory: number; NanoCpus: number };
}

export interface VolumeSummary {
  Name: string;
  Labels: Record<string, string> | null;
  CreatedAt?: string;
}

export class DockerClient {
  private readonly base: string;
  private readonly unix: string | undefined;

  /** `host`: unix:///path/to.sock, or http://host:port (tcp:// is read as http://). */
  constructor(readonly host: string) {
    if (host.startsWith("unix://")) {
      this.unix = host.slice("unix://".length);
      this.base = "http://docker";
    } else if (/^(tcp|http):\/\//.test(host)) {
      this.base = host.replace(/^tcp:/, "http:").replace(/\/$/, "");
    } else {
      throw new DockerUnreachableError(
        `docker host "${host}" is not a unix:///path or tcp://host:port address; pass --docker-host unix:///var/run/docker.sock`,
      );
    }
  }

  async ping(): Promise<void> {
    await this.call("GET", "/_ping");
  }

  /** Engine name and version, e.g. "Podman Engine 4.3.1" or "Docker Engine 28.2.2". */
  async version(): Promise<string> {
    const v = (await this.json("GET", "/version")) as { Version?: string; Components?: { Name: string; Version: string }[] };
    const c = v.Components?.[0];
    return c ? `${c.Name} ${c.Version}` : `Docker Engine ${v.Version ?? "?"}`;
  }

  async imageExists(image: string): Promise<boolean> {
    const res = await this.call("GET", `/images/${encodeURIComponent(image)}/json`, { okStatuses: [404] });
    return res.status !== 404;
  }

  /** Pulls an image; the engine reports pull errors inside a 200 stream, so those are read out too. */
  async pullImage(image: string): Promise<void> {
    const { repo, tag } = splitImage(image);
    const res = await this.call("POST", `/images/create?fromImage=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`);
    const text = await res.text();
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        const msg = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
        if (msg.error || msg.errorDetail?.message)
          throw new DockerApiError(`pulling ${image} failed: ${msg.errorDetail?.message ?? msg.error}`, 500);
      } catch (e) {
        if (e instanceof DockerApiError) throw e;
      }
    }
  }

  /** Imports a root filesystem tarball as an image (`docker import`); returns the image id. */
  async importImage(tar: Blob, repo: string, tag: string): Promise<string> {
    const res = await this.call("POST", `/images/create?fromSrc=-&repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`, {
      body: tar,
      contentType: "application/x-tar",
    });
    const text = await res.text();
    const id = /"(?:status|id)"\s*:\s*"(sha256:[0-9a-f]+)"/.exec(text)?.[1];
    if (!id) throw new DockerApiError(`importing ${repo}:${tag} failed: ${text.slice(0, 300)}`, 500);
    // podman's compatible API ignores `tag` on import; tagging explicitly works on both engines.
    await this.call("POST", `/images/${id}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`);
    return id;
  }

  async createContainer(name: string, body: unknown): Promise<string> {
    const res = (await this.json("POST", `/containers/create?name=${encodeURIComponent(name)}`, body)) as { Id: string };
    return res.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call("POST", `/containers/${id}/start`, { okStatuses: [304] });
  }

  async inspectContainer(id: string): Promise<ContainerInspect | null> {
    const res = await this.call("GET", `/containers/${encodeURIComponent(id)}/json`, { okStatuses: [404] });
    return res.status === 404 ? null : ((await res.json()) as ContainerInspect);
  }

  /** Containers (running or not) carrying every given label (`key=value` or `key`). */
  async listContainers(labels: string[]): Promise<ContainerSummary[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    return (await this.json("GET", `/containers/json?all=true&filters=${filters}`)) as ContainerSummary[];
  }

  /** SIGTERM, then SIGKILL after `timeoutSeconds`. A container already stopped or gone is fine. */
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call("POST", `/containers/${id}/stop?t=${Math.max(0, Math.round(timeoutSeconds))}`, { okStatuses: [304, 404] });
  }

  async killContainer(id: string, signal = "SIGKILL"): Promise<void> {
    await this.call("POST", `/containers/${id}/kill?signal=${signal}`, { okStatuses: [404, 409] });
  }

  async removeContainer(id: string, force = false): Promise<void> {
    try {
      await this.call("DELETE", `/containers/${id}?force=${force}&v=false`, { okStatuses: [404] });
    } catch (e) {
      // podman 4.3 refuses a forced removal of a container that has just stopped ("container state
      // improper: stopped"): it tries to kill it first. A plain removal is what such a container needs.
      if (!force || !(e instanceof DockerApiError) || !e.message.includes("state improper")) throw e;
      await this.call("DELETE", `/containers/${id}?force=false&v=false`, { okStatuses: [404] });
    }
  }

  /** The last `tail` lines of stdout+stderr, as the engine's multiplexed bytes (see demuxLogLines). */
  async containerLogs(id: string, tail: number): Promise<Uint8Array> {
    const res = await this.call("GET", `/containers/${id}/logs?stdout=true&stderr=true&tail=${tail}`, { okStatuses: [404] });
    return res.status === 404 ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
  }

  async createVolume(name: string, labels: Record<string, string>, driverOpts: Record<string, string> = {}): Promise<void> {
    await this.json("POST", "/volumes/create", { Name: name, Labels: labels, DriverOpts: driverOpts });
  }

  async listVolumes(label: string): Promise<VolumeSummary[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
    const res = (await this.json("GET", `/volumes?filters=${filters}`)) as { Volumes: VolumeSummary[] | null };
    return res.Volumes ?? [];
  }

  /** False when the volume is still in use by a container (409); a missing volume counts as removed. */
  async removeVolume(name: string): Promise<boolean> {
    const res = await this.call("DELETE", `/volumes/${encodeURIComponent(name)}`, { okStatuses: [404, 409] });
    return res.status !== 409;
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.call(method, path, body === undefined ? {} : { body: JSON.stringify(body), contentType: "application/json" });
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  private async call(
    method: string,
    path: string,
    opts: { body?: BodyInit; contentType?: string; okStatuses?: number[] } = {},
  ): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.base + API + path, {
        method,
        body: opts.body,
        headers: opts.contentType ? { "content-type": opts.contentType } : undefined,
        ...(this.unix ? { unix: this.unix } : {}),
      } as RequestInit);
    } catch (e) {
      throw new DockerUnreachableError(
        `docker engine at ${this.host} is not reachable: ${describeConnectError(e, this.unix)}; start it (e.g. scripts/podman-service) or pass --docker-host`,
      );
    }
    if (res.ok || opts.okStatuses?.includes(res.status)) return res;
    const text = await res.text().catch(() => "");
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {}
    throw new DockerApiError(
      `docker engine at ${this.host}: ${method} ${path.split("?")[0]} failed with ${res.status}: ${message.trim().slice(0, 500)}`,
      res.status,
    );
  }
}

function describeConnectError(e: unknown, unix: string | undefined): string {
  const err = e as { code?: string; message?: string };
  // Bun's own text ("Was there a typo in the url or port?") misleads for a unix socket: say what the code means.
  if (err.code === "ENOENT" && unix) return `connect ENOENT (no socket at ${unix})`;
  if (err.code === "ECONNREFUSED" && unix) return `connect ECONNREFUSED (the socket ${unix} exists but nothing listens on it)`;
  if (err.code) return `connect ${err.code}`;
  return `connect: ${err.message ?? String(e)}`;
}

/** "repo[:tag][@digest]" → repo and tag ("latest" when absent); a registry port is not a tag. */
export function splitImage(image: string): { repo: string; tag: string } {
  if (image.includes("@")) return { repo: image, tag: "" };
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon > slash) return { repo: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repo: image, tag: "latest" };
}
