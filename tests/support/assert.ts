/**
 * Assertions with the names of `@std/assert`, which is on JSR and unreachable
 * here, built on `node:assert/strict`.
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Asserts that a value is truthy. */
export function assert(value: unknown, message?: string): asserts value {
  nodeAssert.ok(value, message);
}

/** Asserts deep strict equality. */
export function assertEquals<T>(
  actual: unknown,
  expected: T,
  message?: string,
): asserts actual is T {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

/** Asserts deep strict inequality. */
export function assertNotEquals(
  actual: unknown,
  expected: unknown,
  message?: string,
): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message);
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(
  actual: string,
  expected: string,
  message?: string,
): void {
  if (!actual.includes(expected)) {
    throw new nodeAssert.AssertionError({
      message: message ??
        `Expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
      actual,
      expected,
      operator: "includes",
    });
  }
}

/** Asserts that a string matches a pattern. */
export function assertMatch(
  actual: string,
  expected: RegExp,
  message?: string,
): void {
  nodeAssert.match(actual, expected, message);
}

/** Asserts that a function throws an error of a class, and returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: new (...args: any[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (err) {
    return checkError(err, ErrorClass, includes);
  }
  throw new nodeAssert.AssertionError({
    message: "Expected the function to throw",
  });
}

/** Asserts that a promise rejects with an error of a class, and returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    return checkError(err, ErrorClass, includes);
  }
  throw new nodeAssert.AssertionError({
    message: "Expected the promise to reject",
  });
}

function checkError<E extends Error>(
  err: unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: new (...args: any[]) => E,
  includes?: string,
): E {
  if (ErrorClass && !(err instanceof ErrorClass)) {
    throw new nodeAssert.AssertionError({
      message: `Expected ${ErrorClass.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
    });
  }
  if (includes !== undefined) {
    assertStringIncludes((err as Error).message, includes);
  }
  return err as E;
}
