/**
 * A small structured logger: one line per event on stderr, `time level component message key=value…`, or JSON
 * lines with LEOFLOW_LOG_FORMAT=json and by default when stderr is systemd's journal (JOURNAL_STREAM names
 * it). Level from LEOFLOW_LOG_LEVEL (default info); `serve` applies its config (file, SIGHUP) with
 * configureLogging. Logs stay on stderr under systemd too: the journal records both streams alike, and
 * stdout carries what a command prints for its user (the generated admin password).
 *
 * @example const log = createLogger("scheduler"); log.info("tick", { runs: 3 });
 */
import { fstatSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

const journal = stderrIsJournal(process.env.JOURNAL_STREAM);
let envLevel: LogLevel =
  process.env.LEOFLOW_LOG_LEVEL && process.env.LEOFLOW_LOG_LEVEL in ORDER ? (process.env.LEOFLOW_LOG_LEVEL as LogLevel) : "info";
let json = process.env.LEOFLOW_LOG_FORMAT ? process.env.LEOFLOW_LOG_FORMAT === "json" : journal;
// sd-daemon's "<N>" prefix: the journal strips it and files the line under that syslog priority.
const PRIORITY: Record<LogLevel, string> = { debug: "<7>", info: "<6>", warn: "<4>", error: "<3>" };

/** Changes the level and format of every logger created without an explicit level (serve's config, SIGHUP). */
export function configureLogging(opts: { level?: LogLevel; format?: "text" | "json" }): void {
  if (opts.level) envLevel = opts.level;
  if (opts.format) json = opts.format === "json";
}

/** True when stderr is the stream systemd named in JOURNAL_STREAM ("device:inode"), not a pipe a child inherited it with. */
function stderrIsJournal(journalStream: string | undefined): boolean {
  if (!journalStream) return false;
  try {
    const st = fstatSync(2);
    return journalStream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

function format(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return /[\s="]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

export function createLogger(component: string, minLevel?: LogLevel): Logger {
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < ORDER[minLevel ?? envLevel]) return;
    const time = new Date().toISOString();
    const line = json
      ? JSON.stringify({
          time,
          level,
          component,
          msg,
          ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? v.message : v])),
        })
      : `${time} ${level.toUpperCase().padEnd(5)} ${component}: ${msg}${Object.entries(fields)
          .map(([k, v]) => ` ${k}=${format(v)}`)
          .join("")}`;
    // console.error, not process.stderr: both write to fd 2, but process.stderr is Node's stream stack, built on
    // first use (tens of ms and ~6 MiB in a compiled binary; the server logs before /health answers, and every
    // agent logs). A single string argument is printed as is (no format directives), then a newline.
    console.error(`${journal ? PRIORITY[level] : ""}${line}`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (c) => createLogger(`${component}.${c}`, minLevel),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
