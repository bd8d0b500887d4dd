/**
 * Runs the user process in its own process group (setsid), so stopping it stops everything it started and
 * background children cannot hold its output pipes open after it exits.
 */
import type { Subprocess } from "bun";

export const KILL_GRACE_MS = 10_000;

export type UserProcess = Subprocess<"ignore", "pipe", "pipe">;

export function spawnUserProcess(argv: string[], cwd: string, env: Record<string, string | undefined>): UserProcess {
  return Bun.spawn(argv, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
}

/** Signals the whole group; false when nothing is left in it. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM the group, SIGKILL whatever is left after `graceMs`. Returns a cancel for the SIGKILL timer, to call
 * once the group's output is drained (nothing left to kill).
 */
export function stopGroup(pid: number, graceMs = KILL_GRACE_MS): () => void {
  if (!signalGroup(pid, "SIGTERM")) return () => {};
  signalGroup(pid, "SIGCONT"); // a stopped group acts on SIGTERM only once continued
  const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
  return () => clearTimeout(timer);
}
