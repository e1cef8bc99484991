/**
 * A wake-up flag for one watcher: `notify()` marks it, `wait()` resolves at
 * once if it was marked since the last wait, or at the next `notify()`.
 * No notification between a read and a wait is lost.
 *
 * @module
 */

/** A level-triggered wake-up flag. */
export class WakeSignal {
  #marked = false;
  #resolve: (() => void) | undefined;

  /** Marks the flag and wakes a pending `wait()`. */
  notify(): void {
    this.#marked = true;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.();
  }

  /** Resolves once the flag is marked (and clears it), or when `signal` aborts. */
  async wait(signal: AbortSignal): Promise<void> {
    if (!this.#marked && !signal.aborted) {
      const aborted = () => this.#resolve?.();
      signal.addEventListener("abort", aborted, { once: true });
      try {
        await new Promise<void>((resolve) => (this.#resolve = resolve));
      } finally {
        signal.removeEventListener("abort", aborted);
        this.#resolve = undefined;
      }
    }
    this.#marked = false;
  }
}
