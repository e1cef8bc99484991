/**
 * Exponential backoff: how long to wait before try `attempt` (1-based), doubling from `baseMs` up to `maxMs`. The task
 * scheduler uses it between retries of a failed attempt, the supervisor between reconnects to the Docker engine.
 *
 * @module
 */

/** The bounds of a backoff. */
export interface BackoffOptions {
  /** The wait before the first retry. */
  baseMs: number;
  /** The longest wait. */
  maxMs: number;
}

/** The wait before retry number `attempt` (1 → baseMs, 2 → 2·baseMs, …), never more than maxMs. */
export function backoffMs(attempt: number, options: BackoffOptions): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2 ** 1024 is Infinity: clamp the exponent so the product stays finite before the min.
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.min(exponent, 52));
}
