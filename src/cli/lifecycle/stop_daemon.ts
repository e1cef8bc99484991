/**
 * Asking the daemon to exit: SIGTERM to the pid in `daemon.json`, then wait;
 * with `force`, SIGKILL when it has not exited in time. (Windows has no
 * signals: there `stop` stops the services and the daemon must be ended by
 * its service manager.)
 *
 * @module
 */

import { isProcessAlive } from "./state_files.ts";
import { delay } from "../../async/mod.ts";

/** How the daemon ended. */
export type DaemonStopResult = "exited" | "killed" | "not running" | "still running";

/** Options of {@linkcode stopDaemonProcess}. */
export interface StopDaemonOptions {
  /** The daemon's process id. */
  pid: number;
  /** Seconds to wait after SIGTERM. */
  timeoutSeconds: number;
  /** Send SIGKILL when it has not exited in time. */
  force: boolean;
  /** Aborted by Ctrl-C. */
  signal: AbortSignal;
}

/** Sends SIGTERM, waits for the exit, and with `force` sends SIGKILL after the timeout. */
export async function stopDaemonProcess(options: StopDaemonOptions): Promise<DaemonStopResult> {
  if (!isProcessAlive(options.pid)) return "not running";
  try {
    Deno.kill(options.pid, "SIGTERM");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "not running";
    throw error;
  }
  if (await waitForExit(options.pid, options.timeoutSeconds * 1000, options.signal)) return "exited";
  if (!options.force) return "still running";
  try {
    Deno.kill(options.pid, "SIGKILL");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "exited";
    throw error;
  }
  await waitForExit(options.pid, 5000, options.signal);
  return "killed";
}

async function waitForExit(pid: number, ms: number, signal: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await delay(50, signal);
  }
  return !isProcessAlive(pid);
}
