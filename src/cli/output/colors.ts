/**
 * ANSI colours that switch themselves off for NO_COLOR, `--no-color` and
 * output that is not a terminal (https://no-color.org).
 *
 * @module
 */

/** Colour functions; each returns its input unchanged when colour is off. */
export interface Colors {
  /** Whether colour is on. */
  readonly enabled: boolean;
  /** Red, for failures. */
  red(text: string): string;
  /** Green, for success. */
  green(text: string): string;
  /** Yellow, for warnings and work in progress. */
  yellow(text: string): string;
  /** Cyan, for names. */
  cyan(text: string): string;
  /** Dim, for secondary facts. */
  dim(text: string): string;
  /** Bold, for headings. */
  bold(text: string): string;
  /** The n-th colour of a palette, for prefixes that tell services apart (like compose). */
  palette(index: number, text: string): string;
}

/** Options of {@linkcode createColors}. */
export interface ColorOptions {
  /** Whether the output is a terminal. */
  isTerminal: boolean;
  /** Environment values read: NO_COLOR, FORCE_COLOR. */
  env: Record<string, string | undefined>;
  /** `--no-color` was given. @default {false} */
  noColor?: boolean;
}

/** Decides whether colour is on and returns the colour functions. */
export function createColors(options: ColorOptions): Colors {
  const forced = options.env.FORCE_COLOR !== undefined && options.env.FORCE_COLOR !== "0";
  const enabled = !options.noColor && !options.env.NO_COLOR && (options.isTerminal || forced);
  const wrap = (open: number, close: number) => (text: string) => enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  const paletteCodes = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];
  return {
    enabled,
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
    palette: (index, text) => wrap(paletteCodes[index % paletteCodes.length], 39)(text),
  };
}

/** Removes ANSI escape sequences, to measure the visible width of a text. */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}
