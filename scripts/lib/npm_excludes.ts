/**
 * Files inside npm packages that `deno compile` must leave out.
 *
 * Each entry is a known problem with a reason. Deno 2.9.6's `deno compile`
 * dies with "stack overflow" on prom-client's dependency bintrees: its
 * `test/perf/100k` (100,000 lines of numbers, many starting with "-") parses
 * as one 100,000-deep subtraction. The program never loads package tests.
 *
 * @module
 */

/** A folder or file inside an npm package to leave out of the binary. */
export interface NpmExclude {
  /** The package name, e.g. `bintrees`. */
  name: string;
  /** The path inside the package, e.g. `test`. */
  path: string;
  /** Why it is left out. */
  why: string;
}

/** The files left out of every build. */
export const NPM_EXCLUDES: readonly NpmExclude[] = [
  {
    name: "bintrees",
    path: "test",
    why: "test/perf/100k overflows deno compile's parser stack (Deno 2.9.6); tests are never loaded",
  },
];

/** Options for {@linkcode npmExcludePaths}. */
export interface NpmExcludePathsOptions {
  /** Deno's npm cache folder (`deno info --json` "npmCache"). */
  npmCache: string;
  /** The text of deno.lock, which pins each package's versions. */
  lockfile: string;
  /** The entries to resolve. @default NPM_EXCLUDES */
  excludes?: readonly NpmExclude[];
}

/**
 * Returns the `--exclude` paths for each excluded package at every version
 * deno.lock pins (whether or not it is cached yet: deno compile downloads
 * packages as it goes, and ignores excludes that match nothing).
 */
export function npmExcludePaths(options: NpmExcludePathsOptions): string[] {
  const lock = JSON.parse(options.lockfile) as { npm?: Record<string, unknown> };
  const pinned = Object.keys(lock.npm ?? {});
  const paths: string[] = [];
  for (const exclude of options.excludes ?? NPM_EXCLUDES) {
    for (const key of pinned) {
      if (!key.startsWith(`${exclude.name}@`)) continue;
      // Keys look like "name@1.2.3" or "name@1.2.3_peer@4.5.6".
      const version = key.slice(exclude.name.length + 1).split("_")[0];
      paths.push(`${options.npmCache}/registry.npmjs.org/${exclude.name}/${version}/${exclude.path}`);
    }
  }
  return paths.sort();
}

/** Asks deno where its npm cache is. */
export async function npmCacheDir(
  options: { deno?: string; signal?: AbortSignal } = {},
): Promise<string> {
  const output = await new Deno.Command(options.deno ?? Deno.execPath(), {
    args: ["info", "--json"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).output();
  if (!output.success) {
    throw new Error(`Cannot find Deno's npm cache: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
  return (JSON.parse(new TextDecoder().decode(output.stdout)) as { npmCache: string }).npmCache;
}
