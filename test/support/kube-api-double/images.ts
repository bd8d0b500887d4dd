/**
 * The Leoflow image for tests, built the way a user builds it: deploy/kubernetes/Dockerfile with the
 * compiled binary as context, on a local base (no registry here) that is the Docker tests' image plus
 * `cp`, which the Kubernetes executor's init container runs to copy the agent out of this image.
 *
 * @example const image = await ensureLeoflowImage({ binary: BINARY }) // "localhost/leoflow:kube-api-double"
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ensureTestImage } from "../docker";
import { linkedLibraries } from "../ldd";
import { KubeletEngine } from "./engine";

export const LEOFLOW_IMAGE = "localhost/leoflow:kube-api-double";
const BASE_IMAGE = "localhost/kube-api-double-base:1";
const DOCKERFILE = join(import.meta.dir, "../../../deploy/kubernetes/Dockerfile");

let built: Promise<string> | undefined;

/** Builds (once per process, so a rebuilt binary is picked up by the next run) and returns the image name. */
export function ensureLeoflowImage(opts: { binary: string; dockerHost?: string }): Promise<string> {
  built ??= build(opts.binary, new KubeletEngine(opts.dockerHost ?? process.env.DOCKER_HOST ?? "unix:///run/leoflow-podman/podman.sock"));
  return built;
}

async function build(binary: string, engine: KubeletEngine): Promise<string> {
  const testImage = await ensureTestImage(engine);
  const dir = mkdtempSync(join(tmpdir(), "kube-api-double-image-"));
  try {
    // The base: the test image plus cp and the libraries it links.
    const base = join(dir, "base");
    const cp = Bun.which("cp")!;
    const libs = linkedLibraries([cp]);
    for (const f of [cp, ...libs]) {
      mkdirSync(join(base, "rootfs", dirname(f)), { recursive: true });
      copyFileSync(f, join(base, "rootfs", f));
    }
    await Bun.write(join(base, "Dockerfile"), `FROM ${testImage}\nCOPY rootfs/ /\n`);
    await engine.build(tarOf(base), BASE_IMAGE, {});
    // The image itself, from the Dockerfile users build.
    const ctx = join(dir, "ctx");
    mkdirSync(ctx);
    copyFileSync(DOCKERFILE, join(ctx, "Dockerfile"));
    copyFileSync(binary, join(ctx, "leoflow"));
    await engine.build(tarOf(ctx), LEOFLOW_IMAGE, { BASE: BASE_IMAGE });
    return LEOFLOW_IMAGE;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tarOf(dir: string): Blob {
  const tar = Bun.spawnSync(["tar", "-C", dir, "-c", "."], { stdout: "pipe" });
  if (tar.exitCode !== 0) throw new Error(`kube-api-double: tar of ${dir} failed: ${tar.stderr.toString()}`);
  return new Blob([new Uint8Array(tar.stdout)]);
}
