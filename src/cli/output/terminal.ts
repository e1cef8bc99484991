/**
 * Where command output goes: stdout for results, stderr for messages, each
 * knowing whether it is a terminal. Commands write through this, so tests
 * can run them in-process and the `--json` switch lives in one place.
 *
 * @module
 */

import { type Colors, createColors } from "./colors.ts";

/** The output of one CLI run. */
export interface Output {
  /** Whether stdout is a terminal (live views redraw only then). */
  readonly isTerminal: boolean;
  /** Whether `--json` was given: results are JSON on stdout, nothing else is. */
  readonly json: boolean;
  /** Colours for stdout. */
  readonly colors: Colors;
  /** Colours for stderr. */
  readonly errorColors: Colors;
  /** Terminal width in columns (80 when unknown). */
  columns(): number;
  /** Writes text to stdout as is. */
  write(text: string): void;
  /** Writes one line to stdout. */
  line(text?: string): void;
  /** Writes one line to stderr (messages, progress when stdout is JSON). */
  error(text: string): void;
  /** Writes a value as pretty JSON on stdout. */
  writeJson(value: unknown): void;
  /** Whether a JSON result was written (then a failure adds no second document). */
  wroteJson(): boolean;
}

/** Options of {@linkcode createOutput}. */
export interface OutputOptions {
  /** `--json` was given. @default {false} */
  json?: boolean;
  /** `--no-color` was given. @default {false} */
  noColor?: boolean;
  /** Environment values read: NO_COLOR, FORCE_COLOR. */
  env: Record<string, string | undefined>;
}

/** Creates the output of this process (Deno.stdout and Deno.stderr). */
export function createOutput(options: OutputOptions): Output {
  const encoder = new TextEncoder();
  const isTerminal = Deno.stdout.isTerminal();
  const stderrIsTerminal = Deno.stderr.isTerminal();
  const writeAll = (file: typeof Deno.stdout, text: string) => {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
  };
  let wroteJson = false;
  return {
    isTerminal,
    json: options.json ?? false,
    colors: createColors({ isTerminal, env: options.env, noColor: options.noColor }),
    errorColors: createColors({ isTerminal: stderrIsTerminal, env: options.env, noColor: options.noColor }),
    columns: () => {
      try {
        return Deno.consoleSize().columns || 80;
      } catch {
        return 80;
      }
    },
    write: (text) => writeAll(Deno.stdout, text),
    line: (text = "") => writeAll(Deno.stdout, text + "\n"),
    error: (text) => writeAll(Deno.stderr, text + "\n"),
    writeJson: (value) => {
      wroteJson = true;
      writeAll(Deno.stdout, JSON.stringify(value, jsonReplacer, 2) + "\n");
    },
    wroteJson: () => wroteJson,
  };
}

/** Writes bigint (protobuf int64) as numbers in JSON output. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? Number(value) : value;
}
