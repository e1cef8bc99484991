/**
 * A small levelled logger that writes one line per record. The composition
 * root creates it; everything else receives it as an option.
 * @module
 */

/** Log levels, most severe first. */
export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";

const ORDER: Record<LogLevel, number> = {
  error: 0,
  warn: 1,
  info: 2,
  debug: 3,
  trace: 4,
};

/** Structured facts attached to a record. */
export type LogFields = Record<string, unknown>;

/** Writes log records at or above its level. */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** The lowest level written. @default {"info"} */
  level?: string;
  /** Where lines go. @default {writes to stderr} */
  write?: (line: string) => void;
}

/** Creates a logger writing `TIME LEVEL message key=value` lines. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = ORDER[(options.level ?? "info") as LogLevel] ?? ORDER.info;
  const encoder = new TextEncoder();
  const write = options.write ?? ((line: string) => {
    try {
      Deno.stderr.writeSync(encoder.encode(line + "\n"));
    } catch {
      // The log's disk is full or its reader is gone: the line is lost, the daemon goes on.
    }
  });
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (ORDER[level] > threshold) return;
    write(
      `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${formatFields(fields)}`,
    );
  };
  return {
    error: log("error"),
    warn: log("warn"),
    info: log("info"),
    debug: log("debug"),
  };
}

/** A logger that drops everything, for tests that do not read logs. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
};

function formatFields(fields?: LogFields): string {
  if (!fields) return "";
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const text = v instanceof Error ? v.message : typeof v === "string" ? v : JSON.stringify(v);
      return ` ${k}=${/[\s"]/.test(text) ? JSON.stringify(text) : text}`;
    })
    .join("");
}
