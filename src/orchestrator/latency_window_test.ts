import { assertEquals } from "../../tests/support/assert.ts";
import { LatencyWindow, queueWaitMs } from "./latency_window.ts";

Deno.test("LatencyWindow gives nearest-rank percentiles of the attempts in its window only", () => {
  const window = new LatencyWindow({ windowMs: 60_000, capacity: 1000 });
  for (let i = 1; i <= 100; i++) window.record(100_000, i * 10, i);
  window.record(30_000, 99_999, 99_999); // ended 70 s before: outside the window
  const s = window.summary(100_000);
  assertEquals([s.attempts, s.runP50, s.runP95], [100, 0.5, 0.95]);
  assertEquals([s.waits, s.waitP50, s.waitP95], [100, 0.05, 0.095]);
  assertEquals(window.summary(200_000).attempts, 0);
  assertEquals(window.summary(200_000).runP95, 0);
});

Deno.test("LatencyWindow keeps at most its capacity, dropping the oldest", () => {
  const window = new LatencyWindow({ capacity: 10 });
  for (let i = 0; i < 25; i++) window.record(1000, i < 15 ? 1_000_000 : 1000, NaN);
  const s = window.summary(1000);
  assertEquals([s.attempts, s.runP95, s.waits], [10, 1, 0]);
});

Deno.test("queueWaitMs counts from the later of submission and not-before, and is unknown before a retry", () => {
  assertEquals(queueWaitMs({ createdAtMs: 1000, startedAtMs: 1250, notBeforeMs: 0 }), 250);
  assertEquals(queueWaitMs({ createdAtMs: 1000, startedAtMs: 5100, notBeforeMs: 5000 }), 100);
  assertEquals(queueWaitMs({ createdAtMs: 1000, startedAtMs: 2000, notBeforeMs: 9000 }), NaN);
  assertEquals(queueWaitMs({ createdAtMs: 1000, startedAtMs: 0, notBeforeMs: 0 }), NaN);
});
