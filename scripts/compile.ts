/**
 * `deno task compile`: builds the dspy-agent binary for every release target.
 *
 * Usage: `deno task compile [--target T]... [--out-dir dist] [--skip-verify] [--entry FILE]`
 *
 * Each binary is `dist/<target>/dspy-agent[.exe]`, compiled from src/main.ts
 * with the deno.json permission set "dspy-agent" baked in and the version and
 * commit stamped (scripts/stamp.ts). Before building, the module graph is
 * scanned for code that would behave differently when compiled
 * (scripts/compile_safety.ts). After building, the binary for this machine's
 * target is run once (`dspy-agent version`) to prove it works.
 *
 * `DENORT_BIN` names one runtime base, which fits one target: with it set
 * and no `--target`, only this machine's target is built.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { formatHazard, scanModuleGraph } from "./lib/compile_safety.ts";
import { CompileError, compileTarget } from "./lib/compile_target.ts";
import { npmCacheDir, npmExcludePaths } from "./lib/npm_excludes.ts";
import { detectCommit, readVersion, type Stamp, StampError, writeStamp } from "./lib/stamp.ts";
import { binaryName, hostTarget, isTarget, type Target, TARGETS } from "./lib/targets.ts";

/** Options for {@linkcode compileAll}. */
export interface CompileAllOptions {
  /** The folder holding deno.json and src/. */
  root: string;
  /** Targets to build. @default every target in TARGETS */
  targets?: readonly Target[];
  /** Where binaries go, as `<outDir>/<target>/dspy-agent[.exe]`. @default `<root>/dist` */
  outDir?: string;
  /** The runtime base to use instead of downloading one. */
  denortBin?: string;
  /** The program's entry module. @default `<root>/src/main.ts` */
  entry?: string;
  /** The commit to stamp. @default detected with git (scripts/stamp.ts) */
  commit?: string;
  /** Skip running the host target's binary after building. @default false */
  skipVerify?: boolean;
  /** Receives one progress line at a time. @default console.error */
  log?: (line: string) => void;
  /** Cancels the build. */
  signal?: AbortSignal;
}

/** A binary that was built. */
export interface BuiltBinary {
  /** Its target. */
  target: Target;
  /** Its path. */
  path: string;
}

/** Raised when the program is not safe to compile or a built binary does not work. */
export class BuildError extends Error {
  /** Creates the error with a one-line message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BuildError";
  }
}

/** Builds the binaries and returns where they are. */
export async function compileAll(
  options: CompileAllOptions,
): Promise<BuiltBinary[]> {
  const { root, signal } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const targets = options.targets ?? TARGETS;
  const outDir = options.outDir ?? `${root}/dist`;
  const entry = options.entry ?? `${root}/src/main.ts`;

  let scan;
  try {
    scan = await scanModuleGraph(entry, { cwd: root, signal });
  } catch (error) {
    throw new BuildError(
      `Cannot compile dspy-agent: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (scan.hazards.length > 0) {
    for (const hazard of scan.hazards) log(formatHazard(hazard));
    throw new BuildError(
      `Cannot compile dspy-agent: ${scan.hazards.length} module line(s) would break in a compiled binary`,
    );
  }
  const stamp: Stamp = {
    version: await readVersion(root, { signal }),
    commit: options.commit ?? await detectCommit(root, { signal }),
  };
  log(
    `Compiling dspy-agent ${stamp.version} (${stamp.commit}) for ${targets.join(", ")}`,
  );

  const stampDir = await Deno.makeTempDir({ prefix: "dspy-agent-stamp-" });
  try {
    const importMap = await writeStamp(stamp, {
      root,
      outDir: stampDir,
      signal,
    });
    const exclude = npmExcludePaths({
      npmCache: await npmCacheDir({ signal }),
      lockfile: await Deno.readTextFile(`${root}/deno.lock`, { signal }),
    });
    const built: BuiltBinary[] = [];
    for (const target of targets) {
      const path = `${outDir}/${target}/${binaryName(target)}`;
      await Deno.mkdir(`${outDir}/${target}`, { recursive: true });
      await compileTarget({
        target,
        entry,
        output: path,
        importMap,
        exclude,
        cwd: root,
        denortBin: options.denortBin,
        signal,
      });
      log(`Built ${path}`);
      built.push({ target, path });
      if (target === hostTarget() && !options.skipVerify) {
        await verifyBinary(path, stamp, signal);
      }
    }
    return built;
  } finally {
    await Deno.remove(stampDir, { recursive: true });
  }
}

/** Runs `<binary> version` and checks it reports the stamped version and commit. */
export async function verifyBinary(
  path: string,
  stamp: Stamp,
  signal?: AbortSignal,
): Promise<void> {
  const output = await new Deno.Command(path, {
    args: ["version"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: signal ?? AbortSignal.timeout(30_000),
  }).output();
  const printed = new TextDecoder().decode(output.stdout);
  if (
    !output.success || !printed.includes(stamp.version) ||
    !printed.includes(stamp.commit)
  ) {
    const said = (printed || new TextDecoder().decode(output.stderr)).trim().split(
      "\n",
    )[0];
    throw new BuildError(
      `Cannot verify "${path}": \`dspy-agent version\` did not report ${stamp.version} (${stamp.commit}) ` +
        `but exited ${output.code} saying "${said}"; is DENORT_BIN a denort binary?`,
    );
  }
}

/** Picks the targets from the command line and DENORT_BIN (see the module doc). */
export function chooseTargets(
  requested: string[],
  denortBin?: string,
): Target[] {
  for (const name of requested) {
    if (!isTarget(name)) {
      throw new BuildError(
        `Cannot compile for "${name}": not a release target; use one of ${TARGETS.join(", ")}`,
      );
    }
  }
  const targets = requested as Target[];
  if (!denortBin) return targets.length > 0 ? targets : [...TARGETS];
  if (targets.length > 1) {
    throw new BuildError(
      `Cannot compile for ${targets.length} targets with one DENORT_BIN: a runtime base fits one target; pass one --target`,
    );
  }
  const host = hostTarget();
  if (targets.length === 0 && host === undefined) {
    throw new BuildError(
      `Cannot choose a target for DENORT_BIN on ${Deno.build.target}: pass --target`,
    );
  }
  return targets.length === 1 ? targets : [host as Target];
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      target: { type: "string", multiple: true, default: [] },
      "out-dir": { type: "string" },
      "skip-verify": { type: "boolean", default: false },
      entry: { type: "string" },
    },
  });
  const root = fileURLToPath(new URL("..", import.meta.url)).replace(
    /[\\/]$/,
    "",
  );
  const denortBin = Deno.env.get("DENORT_BIN") || undefined;
  try {
    await compileAll({
      root,
      targets: chooseTargets(values.target, denortBin),
      outDir: values["out-dir"],
      entry: values.entry,
      commit: Deno.env.get("DSPY_AGENT_COMMIT") || undefined,
      denortBin,
      skipVerify: values["skip-verify"],
    });
    return 0;
  } catch (error) {
    return reportFailure(error);
  }
}

/**
 * Prints a build failure as one line (Deno's output first when it is not the
 * missing runtime base) and returns exit code 1; rethrows unexpected errors.
 */
export function reportFailure(error: unknown, expected: readonly ErrorClass[] = []): number {
  if (error instanceof CompileError) {
    if (!error.missingRuntimeBase) console.error(error.detail);
    console.error(error.message);
    return 1;
  }
  if ([BuildError, StampError, ...expected].some((kind) => error instanceof kind)) {
    console.error((error as Error).message);
    return 1;
  }
  throw error;
}

/** A class of error whose message is fit to show as is. */
// deno-lint-ignore no-explicit-any
export type ErrorClass = new (...args: any[]) => Error;

if (import.meta.main) Deno.exit(await main(Deno.args));
