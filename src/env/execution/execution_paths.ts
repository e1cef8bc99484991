/**
 * Host folders an execution needs, created when missing: a local process's `working_dir` and the host side of every
 * bind mount. The earlier task runner created them, and training pipelines rely on it (docs/compatibility.md §4):
 * without this, a first run fails with exit 127 for a working folder that does not exist yet.
 *
 * @module
 */
import type { ExecutionSpec } from "./execution_spec.ts";

/** Creates `spec.workingDir` (for a local process) and each mount's host path (for a container) when missing. */
export async function ensureHostPaths(spec: ExecutionSpec, where: "process" | "container"): Promise<void> {
  const paths = where === "process" ? (spec.workingDir ? [spec.workingDir] : []) : spec.mounts.map((m) => m.hostPath);
  for (const path of paths) {
    try {
      await Deno.mkdir(path, { recursive: true });
    } catch (error) {
      // A file already there is the user's (a file mount); anything else is reported by the run itself.
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}
