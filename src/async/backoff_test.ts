import { assertEquals } from "../../tests/support/assert.ts";
import { backoffMs } from "./backoff.ts";

Deno.test("backoffMs() doubles from the base and stops at the maximum", () => {
  const options = { baseMs: 1000, maxMs: 300_000 };
  assertEquals([1, 2, 3, 4, 9, 10].map((a) => backoffMs(a, options)), [1000, 2000, 4000, 8000, 256_000, 300_000]);
});

Deno.test("backoffMs() treats attempt 0 or less as the first, and huge attempts stay at the maximum", () => {
  const options = { baseMs: 250, maxMs: 2000 };
  assertEquals(backoffMs(0, options), 250);
  assertEquals(backoffMs(-5, options), 250);
  assertEquals(backoffMs(5000, options), 2000);
  assertEquals(Number.isFinite(backoffMs(1e9, { baseMs: 1, maxMs: Number.MAX_SAFE_INTEGER })), true);
});
