/**
 * A counting semaphore: at most N engine operations at once (`ENV_MANAGER_MAX_CONCURRENT`).
 * `@std/async` is on JSR, unreachable here, so this stands in for its `Semaphore`.
 *
 * @module
 */

/** Limits how many callers run a section at once. */
export interface Semaphore {
  /** Runs `fn` once a slot is free; the slot is released when it settles. */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** Creates a semaphore with `limit` slots (at least 1). */
export function createSemaphore(limit: number): Semaphore {
  const slots = Math.max(1, Math.floor(limit));
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    active--;
    const next = queue.shift();
    if (next) next();
  };
  const acquire = (signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted();
    if (active < slots) {
      active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        active++;
        resolve();
      };
      const onAbort = () => {
        const i = queue.indexOf(grant);
        if (i >= 0) queue.splice(i, 1);
        reject(signal!.reason);
      };
      queue.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  };
  return {
    async run(fn, signal) {
      await acquire(signal);
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}
