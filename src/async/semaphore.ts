/**
 * A counting semaphore: at most N engine operations at once (`ENV_MANAGER_MAX_CONCURRENT`).
 * `@std/async` is on JSR, unreachable here, so this stands in for its `Semaphore`.
 *
 * @module
 */

/** Limits how many callers run a section at once. */
export interface Semaphore {
  /** Runs `fn` once a slot is free (higher `priority` first, then first come); the slot is released when it settles. */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal, priority?: number): Promise<T>;
}

/** Creates a semaphore with `limit` slots (at least 1). */
export function createSemaphore(limit: number): Semaphore {
  const slots = Math.max(1, Math.floor(limit));
  let active = 0;
  const queue: { grant: () => void; priority: number }[] = [];
  const release = () => {
    active--;
    queue.shift()?.grant();
  };
  const acquire = (signal: AbortSignal | undefined, priority: number): Promise<void> => {
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
        const i = queue.findIndex((w) => w.grant === grant);
        if (i >= 0) queue.splice(i, 1);
        reject(signal!.reason);
      };
      const at = queue.findIndex((w) => w.priority < priority);
      queue.splice(at < 0 ? queue.length : at, 0, { grant, priority });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  };
  return {
    async run(fn, signal, priority = 0) {
      await acquire(signal, priority);
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}
