/**
 * `delay`: the project's stand-in for `@std/async`'s function of that name
 * (JSR is unreachable here). Unlike `node:timers/promises`' `setTimeout`, it
 * rejects with the signal's own reason, which callers tell apart (a task's
 * timeout from its cancel, a shutdown from a caller giving up).
 *
 * @module
 */

/** Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
