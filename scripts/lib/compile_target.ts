/**
 * Runs `deno compile` for one target and explains its failures in one line.
 *
 * `deno compile` downloads its runtime base (`denort`) for the target from
 * Deno's download host unless `DENORT_BIN` names one. Where neither is
 * available the build must fail with one line saying so and how to provide
 * it, instead of Deno's multi-line backtrace.
 *
 * @module
 */
import type { Target } from "./targets.ts";

/** Options for {@linkcode compileTarget}. */
export interface CompileTargetOptions {
  /** The target to build for. */
  target: Target;
  /** The program's entry module, e.g. `src/main.ts`. */
  entry: string;
  /** Where to write the binary. */
  output: string;
  /** An import map to resolve with (see scripts/stamp.ts). */
  importMap: string;
  /** The deno.json permission set baked into the binary. @default "dspy-agent" */
  permissionSet?: string;
  /** The folder holding deno.json. @default Deno.cwd() */
  cwd?: string;
  /** The runtime base to use instead of downloading one (`DENORT_BIN`). */
  denortBin?: string;
  /** Paths left out of the binary (scripts/npm_excludes.ts). @default [] */
  exclude?: readonly string[];
  /** The deno executable. @default Deno.execPath() */
  deno?: string;
  /** Cancels the build. */
  signal?: AbortSignal;
}

/** Raised when a target cannot be compiled; the message is one line. */
export class CompileError extends Error {
  /** The target that failed. */
  readonly target: Target;
  /** Deno's own output, for when the one line is not enough. */
  readonly detail: string;
  /** True when the runtime base (denort) was the problem. */
  readonly missingRuntimeBase: boolean;

  /** Creates the error for a target from deno's output. */
  constructor(
    target: Target,
    message: string,
    options: { detail: string; missingRuntimeBase: boolean },
  ) {
    super(message);
    this.name = "CompileError";
    this.target = target;
    this.detail = options.detail;
    this.missingRuntimeBase = options.missingRuntimeBase;
  }
}

/** The arguments passed to `deno compile` for a build. */
export function compileArgs(options: CompileTargetOptions): string[] {
  return [
    "compile",
    `--permission-set=${options.permissionSet ?? "dspy-agent"}`,
    // A daemon under systemd has no terminal to prompt on; a denied
    // permission must fail the same way every time.
    "--no-prompt",
    "--frozen",
    // Embed only the npm packages the program reaches, from Deno's cache,
    // not the whole node_modules folder (which holds build tools such as
    // buf's 95 MB binary).
    "--node-modules-dir=none",
    "--exclude-unused-npm",
    ...(options.exclude ?? []).map((path) => `--exclude=${path}`),
    "--import-map",
    options.importMap,
    "--target",
    options.target,
    "--output",
    options.output,
    options.entry,
  ];
}

/** Builds one binary; throws {@linkcode CompileError} when deno compile fails. */
export async function compileTarget(
  options: CompileTargetOptions,
): Promise<void> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  if (options.denortBin) env.DENORT_BIN = options.denortBin;
  const output = await new Deno.Command(options.deno ?? Deno.execPath(), {
    args: compileArgs(options),
    cwd: options.cwd,
    env,
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).output();
  if (output.success) return;
  const decoder = new TextDecoder();
  const detail = `${decoder.decode(output.stdout)}${decoder.decode(output.stderr)}`.trim();
  throw explainFailure(options.target, detail, options.denortBin);
}

/** Turns deno compile's output into a one-line {@linkcode CompileError}. */
export function explainFailure(
  target: Target,
  detail: string,
  denortBin?: string,
): CompileError {
  const runtimeBase = /Setting up base binary|denort|dl\.deno\.land/i.test(
    detail,
  );
  let message: string;
  if (runtimeBase && denortBin) {
    const reason = /Could not find denort|No such file/i.test(detail)
      ? "the file does not exist"
      : "it is not a usable runtime base";
    message = `Cannot compile for ${target}: DENORT_BIN="${denortBin}" cannot be used (${reason}); ` +
      `set DENORT_BIN to the denort binary of Deno ${Deno.version.deno} for ${target}`;
  } else if (runtimeBase) {
    message = `Cannot compile for ${target}: the Deno runtime base (denort) could not be downloaded; ` +
      `set DENORT_BIN=/path/to/denort or build where dl.deno.land is reachable`;
  } else {
    message = `Cannot compile for ${target}: deno compile failed: ${lastErrorLine(detail)}`;
  }
  return new CompileError(target, message, {
    detail,
    missingRuntimeBase: runtimeBase,
  });
}

function lastErrorLine(detail: string): string {
  const lines = detail.split("\n").map((line) => line.trim()).filter(Boolean);
  return lines.find((line) => line.startsWith("error:")) ?? lines.at(-1) ??
    "no output";
}
