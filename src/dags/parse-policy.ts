/**
 * The pure rules of isolated DAG parsing: the limits a parse process runs under, the environment it gets,
 * how its end becomes an import error a user understands, and how its report is read back (untrusted: it
 * was written by a process that ran the DAG file's code). No I/O.
 */
import { ValidationError, type DagSpec, errorMessage } from "../domain";
import type { LoadError, LoadResult } from "./loader";

export interface ParseLimits {
  /** Wall-clock limit per file; a parse process that makes no progress for this long is killed. */
  timeoutMs: number;
  /** Resident memory limit of a parse process; it is killed when its RSS goes above. */
  memoryBytes: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { timeoutMs: 30_000, memoryBytes: 512 * 2 ** 20 };

/** How a parse process ended without reporting a file, as seen by the parent. */
export type ParseFailure =
  | { kind: "timeout" }
  | { kind: "memory" }
  | { kind: "exit"; code: number; stderr?: string }
  | { kind: "signal"; signal: string; stderr?: string }
  | { kind: "spawn"; message: string }
  | { kind: "report"; message: string };

/** "30 s", "2.5 s". */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(2))} s`;
}

/** "512 MiB", "1.5 GiB": how --dag-parse-memory reads back in messages. */
export function formatMemory(bytes: number): string {
  const mib = bytes / 2 ** 20;
  if (mib >= 1024) return `${Number((mib / 1024).toFixed(2))} GiB`;
  return `${Number(mib.toFixed(1))} MiB`;
}

/**
 * The import error for a file whose parse process ended without reporting it. The first words are the
 * reason (`timed out after 30 s`, `exceeded 512 MiB`, `exited with code 1`); the rest says how to fix it.
 *
 * @example describeFailure({ kind: "timeout" }, DEFAULT_PARSE_LIMITS).message // "timed out after 30 s while importing; …"
 */
export function describeFailure(failure: ParseFailure, limits: ParseLimits): LoadError {
  const tail = (stderr?: string) => (stderr?.trim() ? `; its last output: ${lastLines(stderr, 3)}` : "");
  switch (failure.kind) {
    case "timeout":
      return {
        path: "",
        message: `timed out after ${formatSeconds(limits.timeoutMs)} while importing (an endless loop, or a wait that never ends?); if the file is only slow, raise --dag-parse-timeout`,
      };
    case "memory":
      return {
        path: "",
        message: `exceeded ${formatMemory(limits.memoryBytes)} of memory while importing (runaway allocation?); if the file really needs more, raise --dag-parse-memory`,
      };
    case "exit":
      return {
        path: "",
        message:
          failure.code === 0
            ? `exited with code 0 before its DAGs were collected (process.exit() at import?); a DAG file must not end the process${tail(failure.stderr)}`
            : `exited with code ${failure.code} while importing (process.exit() or a crash); a DAG file must not end the process${tail(failure.stderr)}`,
      };
    case "signal":
      return { path: "", message: `was killed by ${failure.signal} while importing${tail(failure.stderr)}` };
    case "spawn":
      return { path: "", message: `could not start the process that parses DAG files: ${failure.message}` };
    case "report":
      return { path: "", message: `the parse process sent an unreadable report (${failure.message})` };
  }
}

/** Spawn problems are about this machine, not the file: they are retried on the next sync, never cached. */
export const isCacheable = (failure: ParseFailure | undefined) => failure?.kind !== "spawn";

function lastLines(text: string, n: number): string {
  const lines = text.trim().split("\n").slice(-n).join(" | ");
  return lines.length > 500 ? "…" + lines.slice(-500) : lines;
}

/**
 * The environment of a parse process: enough to run (PATH, HOME, locale, time zone, temp dir), never a
 * variable the server reads for itself (LEOFLOW_JWT_SECRET, LEOFLOW_DB, …) — a DAG file could otherwise
 * print a secret into an import error that any viewer reads. JSC's RAM hint makes the child's GC work
 * within the memory limit before the parent has to kill it.
 */
export function parseWorkerEnv(env: Record<string, string | undefined>, limits: ParseLimits): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (ENV_ALLOWED.has(name) || name.startsWith("LC_")) out[name] = value;
  }
  out.NO_COLOR = "1";
  out.BUN_JSC_forceRAMSize = String(limits.memoryBytes);
  // CPU time may exceed wall time (JIT and GC threads): generous, it only stops orphans (cpu-limit.ts).
  out.LEOFLOW_PARSE_CPU_SECONDS = String(Math.ceil((limits.timeoutMs / 1000) * 4) + 10);
  return out;
}

const ENV_ALLOWED = new Set(["PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR"]);

/** One line of a parse process's report: the outcome of one file. */
export interface ReportLine {
  file: string;
  dags: unknown[];
  errors: LoadError[];
}

/** Reads the JSON lines a parse process wrote; a torn last line (killed mid-write) is dropped. */
export function decodeReport(text: string): Map<string, ReportLine> {
  const out = new Map<string, ReportLine>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    const r = v as Partial<ReportLine>;
    if (r && typeof r.file === "string" && Array.isArray(r.dags) && Array.isArray(r.errors)) out.set(r.file, r as ReportLine);
  }
  return out;
}

/**
 * Turns a reported file into a LoadResult, validating every DAG again with `parseDagSpec`: the report came
 * from a process that ran the file's code, so it is trusted no more than the file itself (validation is
 * idempotent). The caller passes the parser (domain/schemas), which it loads only when a file has a report:
 * a server with no DAG files does not evaluate zod.
 */
export function resultFromReport(file: string, line: ReportLine, parseDagSpec: (raw: unknown) => DagSpec): LoadResult {
  const result: LoadResult = { file, dags: [], errors: [] };
  for (const e of line.errors) {
    result.errors.push({
      path: typeof e?.path === "string" ? e.path : "",
      message: typeof e?.message === "string" ? e.message : String(e),
    });
  }
  for (const raw of line.dags) {
    let spec: DagSpec;
    try {
      spec = parseDagSpec(raw);
    } catch (e) {
      const issues = e instanceof ValidationError && e.issues.length ? e.issues : [{ path: "", message: errorMessage(e) }];
      for (const i of issues) result.errors.push({ path: i.path, message: `${i.message} (reported by the parse process)` });
      continue;
    }
    if (result.dags.some((d) => d.spec.dag_id === spec.dag_id))
      result.errors.push({ path: "dag_id", message: `dag_id "${spec.dag_id}" is defined twice in this file` });
    else result.dags.push({ spec });
  }
  return result;
}
