/**
 * Asking the daemon whether it is up, and waiting until it is.
 *
 * @module
 */

import { delay } from "../../async/mod.ts";
import type { DaemonClient, Health } from "../../client/mod.ts";
import { DaemonExitedError, DaemonTimeoutError } from "../errors.ts";
import { statePaths, tailDaemonLog } from "./state_files.ts";

/** Options of {@linkcode probeHealth}. */
export interface ProbeOptions {
  /** Milliseconds one call may take; a refused connection fails at once, so this only bounds a busy daemon. @default {5000} */
  timeoutMs?: number;
  /** Aborts the call. */
  signal?: AbortSignal;
}

/** Calls Health once; undefined when nothing answers (connection refused, timeout). */
export async function probeHealth(
  client: DaemonClient,
  options: ProbeOptions = {},
): Promise<Health | undefined> {
  try {
    return await client.health({ timeoutMs: options.timeoutMs ?? 5000, signal: options.signal });
  } catch (error) {
    options.signal?.throwIfAborted();
    if ((error as { name?: string }).name === "DaemonCallError") return undefined;
    throw error;
  }
}

/** Options of {@linkcode waitForHealth}. */
export interface WaitForHealthOptions {
  /** The daemon's clients. */
  client: DaemonClient;
  /** The state folder (for the log tail). */
  home: string;
  /** Seconds to wait in all. */
  timeoutSeconds: number;
  /** Resolves with the exit code if the daemon ends first (a daemon this CLI spawned). */
  exited?: Promise<number>;
  /** Aborted by Ctrl-C. */
  signal: AbortSignal;
}

/**
 * Polls Health until it answers healthy. Throws {@linkcode DaemonExitedError}
 * (with the log tail) when the daemon ends first, and
 * {@linkcode DaemonTimeoutError} when time runs out.
 */
export async function waitForHealth(options: WaitForHealthOptions): Promise<Health> {
  const logFile = statePaths(options.home).daemonLog;
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let exitCode: number | undefined;
  let exited = false;
  options.exited?.then((code) => {
    exited = true;
    exitCode = code;
  });
  let pause = 50;
  while (true) {
    options.signal.throwIfAborted();
    const health = await probeHealth(options.client, { timeoutMs: 1000, signal: options.signal });
    if (health?.healthy) return health;
    if (exited) {
      throw new DaemonExitedError({ exitCode, logTail: await tailDaemonLog(logFile, 20), logFile });
    }
    if (Date.now() >= deadline) throw new DaemonTimeoutError(options.timeoutSeconds, logFile);
    await delay(pause, options.signal);
    pause = Math.min(pause * 2, 250);
  }
}
