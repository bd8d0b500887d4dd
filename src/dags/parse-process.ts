/**
 * Runs one parse process (`leoflow __parse-dags`) under the parse limits and says how it ended. The
 * process gets its own process group, so it and anything it started are killed together. Memory is
 * watched by polling RSS, not by an rlimit: RLIMIT_AS breaks Bun (JSC reserves huge virtual ranges).
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { decodeReport, type ParseFailure, type ParseLimits, type ReportLine } from "./parse-policy";
import { errorMessage } from "../domain";

export interface ParseProcessOptions {
  /** argv prefix that starts this program (`[binary]`, or `[bun, src/main.ts]` in development). */
  command: string[];
  limits: ParseLimits;
  env: Record<string, string>;
  /** Where the child writes its report: a new path, created here (0600, exclusive, so no other user can
   * plant one under a guessed name) and removed once read. */
  reportFile: string;
  /** How often RSS and progress are checked. Default 25 ms: runaway allocation grows fast. */
  pollMs?: number;
}

export interface ParseProcessOutcome {
  /** Files the child reported, by absolute path. */
  reported: Map<string, ReportLine>;
  /** Set when the child ended before reporting every file. */
  failure?: ParseFailure;
  /** Highest RSS seen, bytes (for logs and benchmarks). */
  peakRss: number;
}

const STDERR_TAIL = 4096;
/** A report is a few KiB per DAG; a bigger one was written by the file's own code to flood the server. */
const MAX_REPORT_BYTES = 64 * 2 ** 20;

/** Parses `files` (absolute paths) in one child; never throws. */
export async function runParseProcess(files: string[], opts: ParseProcessOptions): Promise<ParseProcessOutcome> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    writeFileSync(opts.reportFile, "", { flag: "wx", mode: 0o600 });
    proc = Bun.spawn([...opts.command, "__parse-dags", "--report", opts.reportFile, ...files], {
      stdio: ["ignore", "pipe", "pipe"],
      env: opts.env,
      detached: true,
    });
  } catch (e) {
    await rm(opts.reportFile, { force: true });
    return { reported: new Map(), failure: { kind: "spawn", message: errorMessage(e) }, peakRss: 0 };
  }
  let stderr = "";
  const drained = Promise.all([drain(proc.stdout, () => {}), drain(proc.stderr, (t) => (stderr = (stderr + t).slice(-STDERR_TAIL)))]);

  let limitHit: ParseFailure | undefined;
  let peakRss = 0;
  let progress = 0;
  let deadline = Date.now() + opts.limits.timeoutMs;
  const kill = (why: ParseFailure) => {
    limitHit ??= why;
    killGroup(proc.pid);
  };
  const watch = setInterval(() => {
    const rss = readRss(proc.pid);
    peakRss = Math.max(peakRss, rss);
    if (rss > opts.limits.memoryBytes) return kill({ kind: "memory" });
    // Each reported file restarts the clock: the limit is per file, also in a batch of data files.
    const size = reportSize(opts.reportFile);
    if (size > progress) (progress = size), (deadline = Date.now() + opts.limits.timeoutMs);
    else if (Date.now() > deadline) kill({ kind: "timeout" });
  }, opts.pollMs ?? 25);

  const code = await proc.exited;
  clearInterval(watch);
  killGroup(proc.pid); // whatever the file started (a sleeping grandchild) goes with it
  await Promise.race([drained, Bun.sleep(200)]); // a grandchild holding the pipe must not hold us

  let reported = new Map<string, ReportLine>();
  const size = reportSize(opts.reportFile);
  if (size > MAX_REPORT_BYTES) {
    await rm(opts.reportFile, { force: true });
    return {
      reported,
      failure: { kind: "report", message: `${size} bytes, more than the ${MAX_REPORT_BYTES} a report may have` },
      peakRss,
    };
  }
  try {
    reported = decodeReport(await readFile(opts.reportFile, "utf8"));
  } catch {
    // No report at all: the child died before its first file was done.
  }
  await rm(opts.reportFile, { force: true });
  if (files.every((f) => reported.has(f))) return { reported, peakRss };
  const failure: ParseFailure =
    limitHit ?? (proc.signalCode ? { kind: "signal", signal: String(proc.signalCode), stderr } : { kind: "exit", code: code ?? 1, stderr });
  return { reported, failure, peakRss };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function reportSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Resident set size in bytes; 0 when the process is gone. */
export function readRss(pid: number): number {
  try {
    if (process.platform === "linux") {
      const m = /VmRSS:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return m ? Number(m[1]) * 1024 : 0;
    }
    const out = Bun.spawnSync(["ps", "-o", "rss=", "-p", String(pid)])
      .stdout.toString()
      .trim();
    return (Number(out) || 0) * 1024;
  } catch {
    return 0;
  }
}

async function drain(stream: ReadableStream<Uint8Array>, onText: (t: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) onText(decoder.decode(r.value, { stream: true }));
  } catch {
    // The pipe broke because the group was killed: nothing more to read.
  }
}
