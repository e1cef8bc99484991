/**
 * Finds code that would behave differently once `deno compile`d.
 *
 * A compiled binary carries its modules inside it: reading a file next to a
 * module (`new URL("./x.json", import.meta.url)`, `import.meta.dirname`)
 * finds nothing on a user's machine, and an `import()` whose specifier is
 * computed at run time is not in the module graph, so `deno compile` leaves
 * it out. `import()` of a string literal is fine: the graph includes it
 * (the CLI relies on that for fast start-up). tests/dist_compile_safety_test.ts
 * enforces this; scripts/compile.ts also refuses to build an unsafe graph.
 *
 * A line that is safe for a reason the scan cannot see (say, a path used only
 * under `deno run`) carries `// compile-safe: <reason>` at its end or on the
 * line above; the reason is required.
 *
 * @module
 */

/** One place where a module would break in a compiled binary. */
export interface CompileHazard {
  /** The module's file path or URL. */
  file: string;
  /** The 1-based line number. */
  line: number;
  /** What is wrong, e.g. `import() with a computed specifier`. */
  reason: string;
  /** The offending line, trimmed. */
  text: string;
}

const RULES: readonly { pattern: RegExp; reason: string }[] = [
  {
    // import.meta.main is fine; anything that locates files on disk is not.
    pattern: /\bimport\.meta\.(url|dirname|filename|resolve)\b/,
    reason: "uses the module's location on disk (embed the data as a module instead)",
  },
  {
    // `import(` not directly followed by one quoted literal and `)`.
    pattern: /(?<![\w$.])import\s*\((?!\s*(["'])[^"'`]*\1\s*[,)])/,
    reason: "import() with a computed specifier (deno compile cannot see it)",
  },
  {
    pattern: /\brequire\s*\((?!\s*(["'])[^"'`]*\1\s*\))/,
    reason: "require() with a computed specifier (deno compile cannot see it)",
  },
];

/** Scans one module's source text and returns the hazards found. */
export function scanSource(file: string, source: string): CompileHazard[] {
  const hazards: CompileHazard[] = [];
  const lines = source.split("\n");
  for (const [index, raw] of lines.entries()) {
    const code = stripComment(raw);
    if (code === "" || isVouchedFor(raw) || isVouchedAbove(lines[index - 1] ?? "")) continue;
    for (const rule of RULES) {
      if (rule.pattern.test(code)) {
        hazards.push({
          file,
          line: index + 1,
          reason: rule.reason,
          text: raw.trim(),
        });
      }
    }
  }
  return hazards;
}

/** Options for {@linkcode scanModuleGraph}. */
export interface ScanModuleGraphOptions {
  /** The deno executable to run `deno info` with. @default Deno.execPath() */
  deno?: string;
  /** The folder to run `deno info` in (where deno.json is). @default Deno.cwd() */
  cwd?: string;
  /** Cancels the scan. */
  signal?: AbortSignal;
}

/** The result of scanning a program's module graph. */
export interface GraphScan {
  /** Absolute paths of the local modules in the graph (npm packages excluded). */
  modules: string[];
  /** Hazards found in those modules. */
  hazards: CompileHazard[];
}

/**
 * Lists the local modules reachable from an entry point (`deno info --json`)
 * and scans each TypeScript or JavaScript one.
 */
export async function scanModuleGraph(
  entry: string,
  options: ScanModuleGraphOptions = {},
): Promise<GraphScan> {
  const output = await new Deno.Command(options.deno ?? Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: options.cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).output();
  if (!output.success) {
    const detail = new TextDecoder().decode(output.stderr).trim().split("\n")[0];
    throw new Error(`Cannot list the modules of "${entry}": ${detail}`);
  }
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string; local?: string; error?: string }[];
  };
  const broken = info.modules.find((module) => module.error);
  if (broken) {
    throw new Error(`Cannot list the modules of "${entry}": ${broken.error}`);
  }
  const modules = info.modules
    .filter((module) => module.specifier.startsWith("file:") && module.local)
    .map((module) => module.local as string);
  const hazards: CompileHazard[] = [];
  for (const file of modules) {
    if (!/\.(ts|tsx|mts|js|mjs|jsx)$/.test(file)) continue;
    const source = await Deno.readTextFile(file, { signal: options.signal });
    hazards.push(...scanSource(file, source));
  }
  return { modules, hazards };
}

/** Formats a hazard as `file:line: reason: text`. */
export function formatHazard(hazard: CompileHazard): string {
  return `${hazard.file}:${hazard.line}: ${hazard.reason}: ${hazard.text}`;
}

/** Tells whether a line carries `// compile-safe: <reason>` with a reason. */
function isVouchedFor(line: string): boolean {
  return /\/\/\s*compile-safe:\s*\S/.test(line);
}

/** Tells whether a comment-only line vouches for the line below it. */
function isVouchedAbove(line: string): boolean {
  return line.trim().startsWith("//") && isVouchedFor(line);
}

/** Drops a `//` comment and JSDoc/block-comment lines, keeping code. */
function stripComment(line: string): string {
  const trimmed = line.trim();
  if (
    trimmed.startsWith("*") || trimmed.startsWith("/*") ||
    trimmed.startsWith("//")
  ) {
    return "";
  }
  // A trailing `// ...` comment; `://` inside URLs is left alone.
  return line.replace(/(^|[^:"'`])\/\/.*$/, "$1");
}
