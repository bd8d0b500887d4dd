/** The machine a bench ran on, for the table's header: cores, CPU model, memory, load before the run. */
import { readdirSync, readFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";

export interface Machine {
  nproc: number;
  cpu: string;
  memory_gib: number;
  free_gib: number;
  /** 1-minute load average when the bench started: near 0 means the machine was otherwise idle. */
  load_1m: number;
  bun: string;
  kernel: string;
}

export function describeMachine(): Machine {
  const c = cpus();
  let kernel = "";
  try {
    kernel = require("node:fs").readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {}
  return {
    nproc: c.length,
    cpu: c[0]?.model.trim() ?? "unknown",
    memory_gib: +(totalmem() / 2 ** 30).toFixed(1),
    free_gib: +(freemem() / 2 ** 30).toFixed(1),
    load_1m: +loadavg()[0]!.toFixed(2),
    bun: Bun.version,
    kernel,
  };
}

export function machineLine(m: Machine): string {
  const idle = m.load_1m < 0.3 ? "otherwise idle" : `NOT idle (1-min load ${m.load_1m} at start)`;
  return `machine: ${m.nproc} cores (nproc), ${m.cpu}, ${m.memory_gib} GiB memory, Linux ${m.kernel}, Bun ${m.bun}; ${idle}`;
}

/**
 * CPU time every process on the machine has spent so far (ms, from /proc/stat: user, nice, system, irq,
 * softirq and steal), or null off Linux. The difference over a trial is what the work cost across processes:
 * the server, its database, the bench's no-op server, a peer's worker and Redis alike. Busier than the
 * trial's own work only by what else ran meanwhile, which the "otherwise idle" header says.
 */
export function machineBusyMs(): number | null {
  try {
    const line = require("node:fs").readFileSync("/proc/stat", "utf8").split("\n", 1)[0] as string;
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const ticks = user! + nice! + system! + irq! + softirq! + steal!;
    return Number.isFinite(ticks) ? (ticks * 1000) / 100 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Machine CPU per item over a span (µs), from two machineBusyMs readings; null when either is. */
export function busyMicrosPer(before: number | null, after: number | null, items: number): number | null {
  return before === null || after === null ? null : ((after - before) * 1000) / items;
}

/** CPU time (ms) so far of the server's main thread, the server's whole process, and every Postgres process. */
export interface CpuSplitReading {
  at: number;
  main: number;
  server: number;
  postgres: number;
}

/** utime + stime of a /proc/…/stat file in ms (clock ticks of 10 ms), or 0 when it cannot be read. */
function statCpuMs(path: string, comm?: string): number {
  try {
    const stat = readFileSync(path, "utf8");
    if (comm !== undefined && stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) !== comm) return 0;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * Where the CPU goes, read synchronously (so it can be taken in the callback that marks a trial's end): the
 * server process `pid`'s main thread, the whole process, and all processes named postgres. Null off Linux.
 */
export function cpuSplitReading(pid: number): CpuSplitReading | null {
  if (process.platform !== "linux") return null;
  let postgres = 0;
  for (const entry of readdirSync("/proc")) if (/^\d+$/.test(entry)) postgres += statCpuMs(`/proc/${entry}/stat`, "postgres");
  return {
    at: performance.now(),
    main: statCpuMs(`/proc/${pid}/task/${pid}/stat`),
    server: statCpuMs(`/proc/${pid}/stat`),
    postgres,
  };
}

/**
 * How busy each part was between two readings, as % of one core: whether a trial was bound by one thread (the
 * server's main thread near 100) or by waits (every part well below, the machine not full).
 */
export function cpuSplitNote(before: CpuSplitReading | null, after: CpuSplitReading | null): string | null {
  // A server that used no CPU at all is not the process read (a wrapper that started it without exec).
  if (!before || !after || after.at <= before.at || after.server === before.server) return null;
  const pct = (ms: number) => Math.round((100 * ms) / (after.at - before.at));
  const main = after.main - before.main;
  return `server main thread ${pct(main)}%, its other threads ${pct(after.server - before.server - main)}%, Postgres ${pct(after.postgres - before.postgres)}%`;
}
