/**
 * The real container engine for the Docker-executor tests: DOCKER_HOST (scripts/test exports the socket of
 * scripts/podman-service), else podman-service's default socket. Under CI=true a missing engine fails the
 * tests; locally they skip with one line. Test images are built here from this host's own binaries (no
 * registry): a root filesystem with bash, a few coreutils and the glibc libraries the bind-mounted leoflow
 * binary needs, imported with the engine's `docker import` endpoint.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DockerClient } from "../../src/executors/docker";
import { linkedLibraries } from "./ldd";

export const TEST_IMAGE = "localhost/leoflow-test:1";
const DEFAULT_SOCKET = "/run/leoflow-podman/podman.sock";
const TOOLS = [
  "grep",
  "bash",
  "sh",
  "cat",
  "sleep",
  "head",
  "tail",
  "tr",
  "env",
  "ls",
  "id",
  "kill",
  "true",
  "false",
  "wc",
  "touch",
  "mkdir",
];

export function dockerHost(): string | null {
  if (process.env.DOCKER_HOST) return process.env.DOCKER_HOST;
  return existsSync(DEFAULT_SOCKET) ? `unix://${DEFAULT_SOCKET}` : null;
}

let announced = false;

/** A client for a reachable engine, or null (locally) after printing why the Docker tests skip. */
export async function testEngine(): Promise<DockerClient | null> {
  const host = dockerHost();
  let problem = host ? "" : "no DOCKER_HOST and no podman-service socket (start one with scripts/podman-service)";
  if (host) {
    try {
      await new DockerClient(host).ping();
      return new DockerClient(host);
    } catch (e) {
      problem = (e as Error).message;
    }
  }
  if (process.env.CI === "true")
    throw new Error(`Docker-executor tests are required under CI=true, but ${problem}; run scripts/podman-service`);
  if (!announced) console.log(`skipping Docker-executor tests: ${problem}`);
  announced = true;
  return null;
}

/** Builds (once per engine) the minimal test image and returns its name. */
export async function ensureTestImage(client: DockerClient): Promise<string> {
  if (await client.imageExists(TEST_IMAGE)) return TEST_IMAGE;
  const root = mkdtempSync(join(tmpdir(), "leoflow-rootfs-"));
  try {
    const files = new Set<string>();
    const binaries = TOOLS.map((t) => Bun.which(t)).filter((p): p is string => !!p);
    for (const b of binaries) {
      mkdirSync(join(root, "bin"), { recursive: true });
      copyFileSync(b, join(root, "bin", b.split("/").pop()!));
    }
    // The libraries of the tools and of leoflow itself (glibc's libc, libpthread, libdl, libm, ld-linux…).
    const leoflow = process.env.LEOFLOW_TEST_BINARY ?? join(import.meta.dir, "../../dist/leoflow");
    for (const lib of linkedLibraries([...binaries, ...(existsSync(leoflow) ? [leoflow] : [])])) files.add(lib);
    for (const f of files) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      copyFileSync(f, join(root, f));
    }
    for (const d of ["tmp", "etc", "usr/bin", "staging"]) mkdirSync(join(root, d), { recursive: true });
    // As in any distribution image: podman copies the image's /tmp mode onto the tmpfs mounted there.
    chmodSync(join(root, "tmp"), 0o1777);
    await Bun.write(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
    await Bun.write(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
    // /usr/bin/env is where scripts look for it.
    copyFileSync(join(root, "bin/env"), join(root, "usr/bin/env"));
    const tar = Bun.spawnSync(["tar", "-C", root, "-c", "."], { stdout: "pipe" });
    if (tar.exitCode !== 0) throw new Error(`tar of the test rootfs failed: ${tar.stderr.toString()}`);
    const [repo, tag] = TEST_IMAGE.split(/:(?=[^:]*$)/) as [string, string];
    await client.importImage(new Blob([new Uint8Array(tar.stdout)]), repo, tag);
    return TEST_IMAGE;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
