/**
 * Small async helpers standing in for `@std/async` (see the README).
 *
 * @module
 */

export { delay } from "./delay.ts";
