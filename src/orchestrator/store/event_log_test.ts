import { assertEquals, assertRejects } from "../../../tests/support/assert.ts";
import { openDatabase } from "./db.ts";
import { SubscriberTooSlowError } from "../errors.ts";
import { EventLog } from "./event_log.ts";

async function openLog(): Promise<{ log: EventLog } & Disposable> {
  const stateDir = await Deno.makeTempDir({ prefix: "dspy-events-" });
  const db = await openDatabase({ stateDir });
  return {
    log: new EventLog(db),
    [Symbol.dispose]() {
      db.close();
      Deno.removeSync(stateDir, { recursive: true });
    },
  };
}

Deno.test("EventLog.publish() stores events with increasing sequence; nested data as JSON text", async () => {
  using t = await openLog();
  const a = t.log.publish({ type: "task_submitted", resourceId: "t1", data: { n: 1, nested: { a: [1] }, s: "x" } });
  const b = t.log.publish({ type: "task_completed", resourceId: "t1" });
  assertEquals(b.sequence, a.sequence + 1);
  assertEquals(t.log.replay({})[0].data, { n: "1", nested: '{"a":[1]}', s: "x" });
  assertEquals(t.log.replay({ types: ["task_completed"] }).map((e) => e.sequence), [b.sequence]);
  assertEquals(t.log.replay({ afterSequence: a.sequence }).length, 1);
});

Deno.test("EventLog.subscribe() replays then follows live events without gap or repeat", async () => {
  using t = await openLog();
  for (let i = 0; i < 1200; i++) t.log.publish({ type: "x", resourceId: `r${i}` });
  const controller = new AbortController();
  const seen: number[] = [];
  for await (const event of t.log.subscribe({ signal: controller.signal })) {
    seen.push(event.sequence);
    // Publish while the replay is in progress and after it.
    if (seen.length % 400 === 0 && seen.length <= 1200) t.log.publish({ type: "x", resourceId: "live" });
    if (seen.length === 1203) break;
  }
  assertEquals(seen, Array.from({ length: 1203 }, (_, i) => i + 1));
});

Deno.test("EventLog.subscribe() ends a slow subscriber with SubscriberTooSlowError; it resumes without loss", async () => {
  using t = await openLog();
  const stream = t.log.subscribe({ bufferSize: 10 });
  // The first event arrives live, so the subscriber is past its replay.
  const next = stream.next();
  await new Promise((r) => setTimeout(r, 10));
  t.log.publish({ type: "x", resourceId: "first" });
  const first = await next;
  assertEquals(first.value?.resourceId, "first");
  // The subscriber does not read while 50 events are published.
  for (let i = 0; i < 50; i++) t.log.publish({ type: "x", resourceId: `e${i}` });
  const got: string[] = [];
  const error = await assertRejects(async () => {
    for await (const event of { [Symbol.asyncIterator]: () => stream }) got.push(event.resourceId);
  }, SubscriberTooSlowError);
  assertEquals(got.length, 10);
  assertEquals(error.lastSequence, 11);
  const resumed: string[] = [];
  const controller = new AbortController();
  for await (const event of t.log.subscribe({ afterSequence: error.lastSequence, signal: controller.signal })) {
    resumed.push(event.resourceId);
    if (resumed.length === 40) break;
  }
  assertEquals(resumed, Array.from({ length: 40 }, (_, i) => `e${i + 10}`));
});

Deno.test("EventLog.subscribe() stops on abort", async () => {
  using t = await openLog();
  const controller = new AbortController();
  const done = (async () => {
    let n = 0;
    for await (const _ of t.log.subscribe({ signal: controller.signal })) n++;
    return n;
  })();
  t.log.publish({ type: "x", resourceId: "a" });
  await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  assertEquals(await done, 1);
});

Deno.test("EventLog.replay() starts at the first event at or after since", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "dspy-events-" });
  const db = await openDatabase({ stateDir });
  try {
    let clock = 1000;
    const log = new EventLog(db, { now: () => clock });
    for (let i = 0; i < 100; i++) {
      clock = 1000 + i * 10;
      log.publish({ type: "x", resourceId: `e${i}` });
    }
    assertEquals(log.replay({ sinceMs: 1500 }).map((e) => e.resourceId).slice(0, 2), ["e50", "e51"]);
    assertEquals(log.replay({ sinceMs: 1495 })[0].resourceId, "e50");
    assertEquals(log.replay({ sinceMs: 1 }).length, 100);
    assertEquals(log.replay({ sinceMs: 99999 }).length, 0);
    assertEquals(log.replay({ sinceMs: 1500, afterSequence: 80 })[0].resourceId, "e80");
  } finally {
    db.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
