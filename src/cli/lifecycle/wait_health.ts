/**
 * Asking the daemon whether it is up, and waiting until it is.
 *
 * @module
 */

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
  let delay = 50;
  while (true) {
    options.signal.throwIfAborted();
    const health = await probeHealth(options.client, { timeoutMs: 1000, signal: options.signal });
    if (health?.healthy) return health;
    if (exited) {
      throw new DaemonExitedError({ exitCode, logTail: await tailDaemonLog(logFile, 20), logFile });
    }
    if (Date.now() >= deadline) throw new DaemonTimeoutError(options.timeoutSeconds, logFile);
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, 250);
  }
}

/** Waits, or rejects when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
