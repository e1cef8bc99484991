import { assertEquals } from "../../../tests/support/assert.ts";
import { ReadyQueue } from "./ready_queue.ts";

Deno.test("ReadyQueue.take() picks higher priority first, FIFO within a priority", () => {
  const queue = new ReadyQueue<string>(1_000_000);
  queue.add("a", 0, 1, "a");
  queue.add("b", 5, 2, "b");
  queue.add("c", 0, 3, "c");
  queue.add("d", 5, 4, "d");
  assertEquals([queue.take(10), queue.take(10), queue.take(10), queue.take(10), queue.take(10)], [
    "b",
    "d",
    "a",
    "c",
    undefined,
  ]);
});

Deno.test("ReadyQueue.take() ages waiting tasks so a low priority is not starved", () => {
  const queue = new ReadyQueue<string>(1000);
  queue.add("old-low", 0, 0, "old-low");
  queue.add("new-high", 5, 9000, "new-high");
  // At 9 s the old task has gained 9 steps: 9 > 5.
  assertEquals(queue.take(9000), "old-low");
});

Deno.test("ReadyQueue.remove() drops a task from later picks", () => {
  const queue = new ReadyQueue<string>(1000);
  queue.add("a", 0, 1, "a");
  queue.add("b", 0, 2, "b");
  queue.remove("a");
  assertEquals([queue.size, queue.take(3), queue.take(3)], [1, "b", undefined]);
});
