/**
 * The start lock: concurrent `dspy-agent start` runs take turns, so two of
 * them never both decide the daemon is missing and spawn it twice.
 *
 * @module
 */

import { statePaths } from "./state_files.ts";

/** Holds `<home>/start.lock` exclusively until disposed; `onWait` is called when another start holds it. */
export async function acquireStartLock(home: string, onWait?: () => void): Promise<AsyncDisposable> {
  const paths = statePaths(home);
  await Deno.mkdir(paths.logsDir, { recursive: true });
  const file = await Deno.open(paths.startLock, { create: true, write: true, read: true });
  // Blocks while another start holds it; the OS frees it if that process dies.
  const locked = file.lock(true);
  const timer = setTimeout(() => onWait?.(), 200);
  try {
    await locked;
  } finally {
    clearTimeout(timer);
  }
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
