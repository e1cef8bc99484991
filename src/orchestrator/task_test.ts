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
    interruptions: 0,
    maxInterruptions: 3,
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

Deno.test("transitionTask() gives an interrupted attempt back uncounted, up to maxInterruptions, then fails", () => {
  const reason = "the daemon stopped during the attempt";
  let t = task({ maxAttempts: 1, maxInterruptions: 2 });
  for (const n of [1, 2]) {
    t = transitionTask(transitionTask(t, { type: "start", nowMs: 0 }), { type: "interrupt", nowMs: 1, reason });
    // The retry budget is untouched: a crash of the daemon is not a failure of the task.
    assertEquals([t.state, t.attempts, t.interruptions], ["pending", 0, n]);
  }
  const failed = transitionTask(transitionTask(t, { type: "start", nowMs: 0 }), {
    type: "interrupt",
    nowMs: 1,
    reason,
  });
  assertEquals([failed.state, failed.interruptions], ["failed", 3]);
  assertEquals(failed.error.startsWith(`interrupted: ${reason}, for the 3rd time; at most 2`), true);
});

Deno.test("transitionTask() fails an interrupted at-most-once task at once, saying why", () => {
  const running = transitionTask(task({ maxInterruptions: 0 }), { type: "start", nowMs: 0 });
  const failed = transitionTask(running, { type: "interrupt", nowMs: 1, reason: "the daemon was stopped" });
  assertEquals(failed.state, "failed");
  assertEquals(failed.error.includes("at-most-once"), true);
  assertThrows(
    () => transitionTask(task(), { type: "interrupt", nowMs: 1, reason: "x" }),
    IllegalTaskTransitionError,
  );
});

Deno.test("v1Status() maps every state other than pending, running and completed to failed", () => {
  assertEquals(
    (["pending", "retrying", "running", "completed", "failed", "cancelled", "timed_out"] as const).map(v1Status),
    ["pending", "pending", "running", "completed", "failed", "failed", "failed"],
  );
});
