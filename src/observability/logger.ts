/**
 * A small structured logger: one line per event, `time level component message key=value…` on a TTY-free
 * stream (stderr), or JSON lines with LEOFLOW_LOG_FORMAT=json. Level from LEOFLOW_LOG_LEVEL (default info).
 *
 * @example const log = createLogger("scheduler"); log.info("tick", { runs: 3 });
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

const envLevel = (process.env.LEOFLOW_LOG_LEVEL as LogLevel | undefined) ?? "info";
const json = process.env.LEOFLOW_LOG_FORMAT === "json";

function format(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return /[\s="]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

export function createLogger(component: string, minLevel: LogLevel = envLevel): Logger {
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < ORDER[minLevel]) return;
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
    process.stderr.write(line + "\n");
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
