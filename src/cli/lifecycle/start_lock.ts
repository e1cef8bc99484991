/**
 * The start lock: concurrent `dspy-agent start` runs take turns, so two of
 * them never both decide the daemon is missing and spawn it twice (issue 5 §1).
 *
 * @module
 */

import { statePaths } from "./state_files.ts";

/** Holds `<home>/start.lock` exclusively until disposed. */
export async function acquireStartLock(home: string): Promise<AsyncDisposable> {
  const paths = statePaths(home);
  await Deno.mkdir(paths.logsDir, { recursive: true });
  const file = await Deno.open(paths.startLock, { create: true, write: true, read: true });
  // Blocks while another start holds it; the OS frees it if that process dies.
  await file.lock(true);
  return {
    async [Symbol.asyncDispose]() {
      try {
        await file.unlock();
      } finally {
        file.close();
      }
    },
  };
}
