/**
 * kubectl for the tests that hold the double to the real client: scripts/kubectl runs it, installing
 * Debian's (kubernetes-client) when missing, which needs root (as under CI). Without kubectl and without
 * root, the kubectl tests skip locally with one line; under CI=true they never skip.
 */
import { join } from "node:path";

const SCRIPT = join(import.meta.dir, "../../../scripts/kubectl");
let announced = false;

export function kubectlAvailable(): boolean {
  const ok = !!Bun.which("kubectl") || process.getuid?.() === 0 || process.env.CI === "true";
  if (!ok && !announced)
    console.log("skipping kubectl tests: no kubectl on PATH and installing it needs root (sudo apt-get install kubernetes-client)");
  announced = true;
  return ok;
}

/** Runs kubectl with `kubeconfig` (and nothing from the environment's KUBECONFIG); its exit code and stdout+stderr. */
export async function kubectl(kubeconfig: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const p = Bun.spawn([SCRIPT, "--kubeconfig", kubeconfig, "--request-timeout=20s", ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, KUBECONFIG: "" },
  });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, out: out + err };
}
