import { assert, assertEquals } from "../../../tests/support/assert.ts";
import { AdaptiveLimit } from "./adaptive_limit.ts";

Deno.test("AdaptiveLimit lowers the limit when the error rate rises, never below the minimum", () => {
  const limit = new AdaptiveLimit({ limit: 8, minLimit: 1, maxLimit: 16 });
  for (let i = 0; i < 200; i++) limit.record(false, 10, 0);
  assertEquals(limit.limit, 1);
  assertEquals(limit.errorRate, 1);
});

Deno.test("AdaptiveLimit raises the limit while the queue is deep and healthy, up to the maximum", () => {
  const limit = new AdaptiveLimit({ limit: 4, minLimit: 1, maxLimit: 6 });
  for (let i = 0; i < 200; i++) limit.record(true, 10, 100);
  assertEquals(limit.limit, 6);
});

Deno.test("AdaptiveLimit keeps its limit when the queue is shallow", () => {
  const limit = new AdaptiveLimit({ limit: 4, minLimit: 1, maxLimit: 8 });
  for (let i = 0; i < 200; i++) limit.record(true, 10, 2);
  assertEquals(limit.limit, 4);
});

Deno.test("AdaptiveLimit lowers the limit when latency rises well above its baseline", () => {
  const limit = new AdaptiveLimit({ limit: 8, minLimit: 1, maxLimit: 8 });
  for (let i = 0; i < 100; i++) limit.record(true, 100, 0);
  for (let i = 0; i < 30; i++) limit.record(true, 5000, 0);
  assert(limit.limit < 8, `limit ${limit.limit}`);
});
