import { assertEquals } from "../../tests/support/assert.ts";
import { BoundedQueue } from "./bounded_queue.ts";

Deno.test("BoundedQueue.take() yields items in order, then waits for the next push", async () => {
  const queue = new BoundedQueue<number>(10);
  queue.push(1);
  queue.push(2);
  assertEquals(await queue.take(), { kind: "item", item: 1 });
  assertEquals(await queue.take(), { kind: "item", item: 2 });
  const pending = queue.take();
  queue.push(3);
  assertEquals(await pending, { kind: "item", item: 3 });
  assertEquals(queue.size, 0);
});

Deno.test("BoundedQueue.push() past the capacity drops the item and marks the queue overflowed", async () => {
  const queue = new BoundedQueue<number>(2);
  assertEquals([queue.push(1), queue.push(2), queue.push(3), queue.push(4)], [true, true, false, false]);
  assertEquals(queue.overflowed, true);
  // The consumer drains what was kept, then learns of the overflow.
  assertEquals(await queue.take(), { kind: "item", item: 1 });
  assertEquals(await queue.take(), { kind: "item", item: 2 });
  assertEquals(await queue.take(), { kind: "overflowed" });
  queue.clear();
  assertEquals([queue.overflowed, queue.push(5)], [false, true]);
});

Deno.test("BoundedQueue.take() wakes a waiting consumer when the queue overflows", async () => {
  const queue = new BoundedQueue<number>(0);
  const pending = queue.take();
  queue.push(1);
  assertEquals(await pending, { kind: "overflowed" });
});

Deno.test("BoundedQueue.take() answers aborted when its signal aborts, before or while waiting", async () => {
  const queue = new BoundedQueue<number>(4);
  const controller = new AbortController();
  const pending = queue.take(controller.signal);
  controller.abort();
  assertEquals(await pending, { kind: "aborted" });
  queue.push(1);
  assertEquals(await queue.take(controller.signal), { kind: "aborted" });
  // The item is still there for a consumer that was not aborted.
  assertEquals(await queue.take(), { kind: "item", item: 1 });
});

Deno.test("BoundedQueue keeps order across its internal compaction", async () => {
  const queue = new BoundedQueue<number>(5000);
  for (let i = 0; i < 3000; i++) queue.push(i);
  const seen: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const next = await queue.take();
    if (next.kind === "item") seen.push(next.item);
  }
  for (let i = 3000; i < 3500; i++) queue.push(i);
  while (queue.size > 0) {
    const next = await queue.take();
    if (next.kind === "item") seen.push(next.item);
  }
  assertEquals(seen, Array.from({ length: 3500 }, (_, i) => i));
});
