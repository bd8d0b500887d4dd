/**
 * The container engine the double's kubelet drives: the project's DockerClient (podman's Docker-compatible
 * API) plus the two calls the executors never need: waiting for a container to exit and following its logs.
 */
import { DockerClient } from "../../../src/executors/docker/client";
import { demuxLogLines } from "../../../src/executors/docker/log-stream";

export class KubeletEngine extends DockerClient {
  private readonly socket: string | undefined;
  private readonly httpBase: string;

  constructor(host: string) {
    super(host);
    this.socket = host.startsWith("unix://") ? host.slice("unix://".length) : undefined;
    this.httpBase = this.socket ? "http://docker" : host.replace(/^tcp:/, "http:").replace(/\/$/, "");
  }

  /** Blocks until the container exits; its exit code. */
  async wait(id: string): Promise<number> {
    const res = await this.raw("POST", `/containers/${id}/wait`);
    const body = (await res.json().catch(() => ({}))) as { StatusCode?: number };
    return body.StatusCode ?? -1;
  }

  /** The image's configured user ("" for root), to enforce runAsNonRoot as the kubelet does. */
  async imageUser(image: string): Promise<string> {
    const res = await this.raw("GET", `/images/${encodeURIComponent(image)}/json`);
    const body = (await res.json().catch(() => ({}))) as { Config?: { User?: string } };
    return body.Config?.User ?? "";
  }

  /** stdout+stderr as text, the last `tail` lines when given, with RFC 3339 timestamps when asked. */
  async logText(id: string, opts: { tail?: number; timestamps?: boolean }): Promise<string> {
    const res = await this.raw(
      "GET",
      `/containers/${id}/logs?stdout=true&stderr=true&tail=${opts.tail ?? "all"}&timestamps=${opts.timestamps ? "true" : "false"}`,
    );
    const lines = demuxLogLines(new Uint8Array(await res.arrayBuffer()));
    return lines.map((l) => l.line + "\n").join("");
  }

  /** Follows the logs until the container ends: the frames' payloads as one text stream. */
  async followLogs(id: string, opts: { tail?: number; timestamps?: boolean }): Promise<ReadableStream<Uint8Array>> {
    const res = await this.raw(
      "GET",
      `/containers/${id}/logs?stdout=true&stderr=true&follow=true&tail=${opts.tail ?? "all"}&timestamps=${opts.timestamps ? "true" : "false"}`,
    );
    const reader = res.body!.getReader();
    let pending = new Uint8Array(0);
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          // A frame: 1 byte stream, 3 zero bytes, 4 bytes big-endian size, then the payload.
          if (pending.length >= 8) {
            const size = ((pending[4]! << 24) | (pending[5]! << 16) | (pending[6]! << 8) | pending[7]!) >>> 0;
            if (pending.length >= 8 + size) {
              controller.enqueue(pending.slice(8, 8 + size));
              pending = pending.slice(8 + size);
              return;
            }
          }
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            return;
          }
          const next = new Uint8Array(pending.length + value.length);
          next.set(pending);
          next.set(value, pending.length);
          pending = next;
        }
      },
      cancel() {
        void reader.cancel();
      },
    });
  }

  /** `docker build` of a tar context; throws with the build's last output when it fails. */
  async build(context: Blob, tag: string, buildArgs: Record<string, string>): Promise<void> {
    const q = `t=${encodeURIComponent(tag)}&buildargs=${encodeURIComponent(JSON.stringify(buildArgs))}&rm=true`;
    const res = await this.raw("POST", `/build?${q}`, context);
    const out = await res.text();
    const error = /"error(?:Detail)?"\s*:\s*(?:\{"message"\s*:\s*)?"([^"]+)"/.exec(out)?.[1];
    if (error || !out.includes("Successfully tagged"))
      throw new Error(`kube-api-double: building ${tag} failed: ${error ?? out.slice(-500)}`);
  }

  private async raw(method: string, path: string, body?: Blob): Promise<Response> {
    const res = await fetch(`${this.httpBase}/v1.41${path}`, {
      method,
      ...(body ? { body, headers: { "content-type": "application/x-tar" } } : {}),
      ...(this.socket ? { unix: this.socket } : {}),
    } as RequestInit);
    if (!res.ok)
      throw new Error(
        `kube-api-double kubelet: engine ${method} ${path.split("?")[0]} answered ${res.status}: ${(await res.text()).slice(0, 300)}`,
      );
    return res;
  }
}
