import { assertEquals, assertThrows } from "../../tests/support/assert.ts";
import { IllegalTaskTransitionError } from "./errors.ts";
import { type Task, transitionTask, v1Status } from "./task.ts";

function task(overrides: Partial<Task> = {}): Task {
  return {
    id: "t1",
    class: "cpu_short",
    state: "pending",
    priority: 0,
    rawPayload: {},
    payload: {},
    result: {},
    error: "",
    attempts: 0,
    maxAttempts: 2,
    timeoutSeconds: 0,
    workflowId: "",
    labels: {},
    createdAtMs: 0,
    startedAtMs: 0,
    finishedAtMs: 0,
    notBeforeMs: 0,
    waitingReason: "",
    revision: 1,
    ...overrides,
  };
}

Deno.test("transitionTask() runs pending → running → completed and counts the attempt", () => {
  const running = transitionTask(task(), { type: "start", nowMs: 5 });
  assertEquals([running.state, running.attempts, running.startedAtMs, running.revision], ["running", 1, 5, 2]);
  const done = transitionTask(running, { type: "succeed", nowMs: 9, result: { data: "{}" } });
  assertEquals([done.state, done.finishedAtMs, done.result.data], ["completed", 9, "{}"]);
});

Deno.test("transitionTask() retries a failed attempt while attempts remain, then fails", () => {
  const fail = { type: "fail", nowMs: 1, error: "boom", result: {}, timedOut: false, retryAtMs: 100 } as const;
  const first = transitionTask(transitionTask(task(), { type: "start", nowMs: 0 }), fail);
  assertEquals([first.state, first.notBeforeMs], ["retrying", 100]);
  const second = transitionTask(transitionTask(first, { type: "start", nowMs: 100 }), fail);
  assertEquals([second.state, second.attempts, second.error], ["failed", 2, "boom"]);
});

Deno.test("transitionTask() ends a last timed-out attempt as timed_out, read as failed in v1", () => {
  const running = transitionTask(task({ maxAttempts: 1 }), { type: "start", nowMs: 0 });
  const out = transitionTask(running, {
    type: "fail",
    nowMs: 1,
    error: "slow",
    result: {},
    timedOut: true,
    retryAtMs: 0,
  });
  assertEquals([out.state, v1Status(out.state)], ["timed_out", "failed"]);
});

Deno.test("transitionTask() refuses illegal moves", () => {
  assertThrows(() => transitionTask(task(), { type: "succeed", nowMs: 0, result: {} }), IllegalTaskTransitionError);
  const done = task({ state: "completed" });
  assertThrows(() => transitionTask(done, { type: "cancel", nowMs: 0, reason: "" }), IllegalTaskTransitionError);
  assertThrows(() => transitionTask(done, { type: "start", nowMs: 0 }), IllegalTaskTransitionError);
});

Deno.test("transitionTask() recovers an interrupted attempt: requeued if attempts remain, else failed", () => {
  const running = transitionTask(task({ maxAttempts: 2 }), { type: "start", nowMs: 0 });
  assertEquals(transitionTask(running, { type: "recover", nowMs: 1 }).state, "pending");
  const last = transitionTask(task({ maxAttempts: 1 }), { type: "start", nowMs: 0 });
  const failed = transitionTask(last, { type: "recover", nowMs: 1 });
  assertEquals([failed.state, failed.error.startsWith("interrupted")], ["failed", true]);
  const released = transitionTask(last, { type: "release", nowMs: 1 });
  assertEquals([released.state, released.attempts], ["pending", 0]);
});

Deno.test("v1Status() maps every state other than pending, running and completed to failed", () => {
  assertEquals(
    (["pending", "retrying", "running", "completed", "failed", "cancelled", "timed_out"] as const).map(v1Status),
    ["pending", "pending", "running", "completed", "failed", "failed", "failed"],
  );
});
