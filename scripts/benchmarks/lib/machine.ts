/** The machine a bench ran on, for the table's header: cores, CPU model, memory, load before the run. */
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
