/**
 * The version and commit this build of dspy-agent reports.
 *
 * `deno task compile` (scripts/compile.ts) stamps release values by mapping
 * this module to a generated one at build time, so the repository stays
 * unchanged and the binary never reads a file to learn its own version.
 * Run from source, the version comes from deno.json and the commit is "dev".
 *
 * @module
 */
import denoConfig from "../deno.json" with { type: "json" };

/** The release version, e.g. `0.1.0` (deno.json "version" when run from source). */
export const VERSION: string = denoConfig.version;

/** The git commit the binary was built from, or `dev` when run from source. */
export const COMMIT: string = "dev";
