/**
 * Small async helpers standing in for `@std/async` (see the README): an abortable delay, a bounded queue between a
 * synchronous producer and one consumer, a counting semaphore with priorities, and exponential backoff.
 *
 * @module
 */

export { delay } from "./delay.ts";
export { BoundedQueue, type TakeResult } from "./bounded_queue.ts";
export { createSemaphore, type Semaphore } from "./semaphore.ts";
export { backoffMs, type BackoffOptions } from "./backoff.ts";
