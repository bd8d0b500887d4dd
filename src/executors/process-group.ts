/**
 * Stopping a task's process group from outside, once its agent is gone. The agent started the user process
 * with setsid, so its group id is its pid and everything it started shares it. Orphans of a dead agent are
 * re-parented to PID 1, which may never reap them (containers, CI sandboxes): a group of zombies still answers
 * kill(…, 0), so liveness is read from /proc, where a zombie is state Z and runs nothing.
 */
import { readdirSync, readFileSync } from "node:fs";

/** `pid (comm) S ppid pgrp …` → state and process group; comm may hold spaces and parentheses. Pure. */
export function parseProcStat(stat: string): { state: string; pgrp: number } | null {
  const close = stat.lastIndexOf(")");
  if (close < 0) return null;
  const [state, , pgrp] = stat.slice(close + 2).split(" ");
  const n = Number(pgrp);
  return state && Number.isSafeInteger(n) ? { state, pgrp: n } : null;
}

/** Whether any process of group `pgid` is still alive (not a zombie). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return true; // no /proc (macOS): trust kill(2)
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    const s = parseProcStat(stat);
    if (s && s.pgrp === pgid && s.state !== "Z" && s.state !== "X") return true;
  }
  return false;
}

function signal(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(pgid: number, ms: number, pollMs: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await Bun.sleep(pollMs)) if (!groupAlive(pgid)) return true;
  return !groupAlive(pgid);
}

/**
 * SIGTERM the group, SIGKILL what is left after `graceMs`; resolves once nothing of it runs. Returns what it
 * had to do, for the log: "none" (nothing was running), "term" or "kill".
 */
export async function stopProcessGroup(pgid: number, graceMs: number, pollMs = 50): Promise<"none" | "term" | "kill"> {
  if (!groupAlive(pgid)) return "none";
  signal(pgid, "SIGTERM");
  // A stopped process (SIGSTOP, a frozen VM resumed) holds SIGTERM pending until continued; SIGCONT lets it
  // act on it now instead of waiting out the grace, as systemd does when it stops a unit.
  signal(pgid, "SIGCONT");
  if (await waitGone(pgid, graceMs, pollMs)) return "term";
  signal(pgid, "SIGKILL");
  await waitGone(pgid, 2_000, pollMs);
  return "kill";
}
