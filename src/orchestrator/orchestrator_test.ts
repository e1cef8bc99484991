import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../tests/support/assert.ts";
import { TaskNotFoundError } from "./errors.ts";
import { openTestOrchestrator, tempStateDir, waitForTask } from "../../tests/support/orchestrator.ts";

Deno.test("openOrchestrator() runs a noop task to completion with the v1 result map", async () => {
  await using orch = await openTestOrchestrator();
  const { task, created } = orch.tasks.submit({ id: "n1", payload: { task_type: "noop" }, workflowId: "wf" });
  assert(created);
  assertEquals(orch.tasks.get("n1").id, task.id);
  const done = await waitForTask(orch.tasks, "n1");
  assertEquals(done.state, "completed");
  assertEquals(done.result.class, "cpu_short");
  assertEquals(done.result.workflow_id, "wf");
  assertEquals(JSON.parse(done.result.metadata).executor, "builtin");
  assertEquals(done.result.data, "{}");
  assert(Number(done.result.latency_ms) >= 0);
});

Deno.test("TaskService.submit() returns the existing task for a known id", async () => {
  await using orch = await openTestOrchestrator();
  orch.tasks.submit({ id: "dup", payload: { task_type: "sleep", sleep_ms: "50" } });
  const again = orch.tasks.submit({ id: "dup", payload: { task_type: "noop" } });
  assertEquals(again.created, false);
  assertEquals(again.task.rawPayload.task_type, "sleep");
  assertEquals(orch.tasks.list({}).tasks.length, 1);
});

Deno.test("echo returns its decoded payload in data", async () => {
  await using orch = await openTestOrchestrator();
  orch.tasks.submit({ id: "e1", payload: { task_type: "echo", n: "3", flag: "True", cfg: '{"a": [1]}' } });
  const done = await waitForTask(orch.tasks, "e1");
  assertEquals(JSON.parse(done.result.data), { task_type: "echo", n: 3, flag: true, cfg: { a: [1] } });
});

Deno.test("a task no executor can take fails at once, listing the ways to run it", async () => {
  await using orch = await openTestOrchestrator();
  const { task } = orch.tasks.submit({ id: "x1", payload: { prompt: "hi" } });
  assertEquals(task.state, "failed");
  assertStringIncludes(task.error, "ways to run a task");
  assertStringIncludes(task.error, "ENV_RUNNER_URL");
});

Deno.test("a failing task is retried with backoff until it succeeds", async () => {
  await using orch = await openTestOrchestrator();
  orch.tasks.submit({ id: "r1", maxAttempts: 3, payload: { task_type: "fail", fail_attempts: "2" } });
  const done = await waitForTask(orch.tasks, "r1");
  assertEquals([done.state, done.attempts], ["completed", 3]);
  const types = orch.events.replay({}).filter((e) => e.resourceId === "r1").map((e) => e.type);
  assertEquals(types, [
    "task_submitted",
    "task_started",
    "task_retrying",
    "task_started",
    "task_retrying",
    "task_started",
    "task_completed",
  ]);
});

Deno.test("a task out of attempts fails with the last error", async () => {
  await using orch = await openTestOrchestrator();
  orch.tasks.submit({ id: "f1", maxAttempts: 2, payload: { task_type: "fail", message: "bad input" } });
  const done = await waitForTask(orch.tasks, "f1");
  assertEquals([done.state, done.attempts], ["failed", 2]);
  assertStringIncludes(done.error, "bad input");
});

Deno.test("a task over its timeout ends timed_out", async () => {
  await using orch = await openTestOrchestrator();
  orch.tasks.submit({ id: "s1", timeoutSeconds: 1, payload: { task_type: "sleep", sleep_ms: "5000" } });
  const done = await waitForTask(orch.tasks, "s1");
  assertEquals(done.state, "timed_out");
  assertStringIncludes(done.error, "timed out after 1s");
});

Deno.test("TaskService.cancel() aborts a running task and a pending one", async () => {
  await using orch = await openTestOrchestrator({ classes: { cpu_long: { concurrency: 1 } } });
  orch.tasks.submit({ id: "c1", class: "cpu_long", payload: { task_type: "sleep", sleep_ms: "10000" } });
  orch.tasks.submit({ id: "c2", class: "cpu_long", payload: { task_type: "noop" } });
  await waitForTask(orch.tasks, "c1", (t) => t.state === "running");
  assertEquals(orch.tasks.get("c2").state, "pending");
  assertEquals(orch.tasks.cancel("c2", "not needed").task.state, "cancelled");
  const { task, cancelled } = orch.tasks.cancel("c1", "user asked");
  assert(cancelled);
  assertEquals([task.state, task.error], ["cancelled", "cancelled: user asked"]);
  // The slot is given back: a new task runs.
  orch.tasks.submit({ id: "c3", class: "cpu_long", payload: { task_type: "noop" } });
  assertEquals((await waitForTask(orch.tasks, "c3")).state, "completed");
  assertEquals(orch.tasks.get("c1").state, "cancelled");
});

Deno.test("higher priority starts first, FIFO within a priority", async () => {
  await using orch = await openTestOrchestrator({ classes: { cpu_long: { concurrency: 1 } } });
  orch.tasks.submit({ id: "block", class: "cpu_long", payload: { task_type: "sleep", sleep_ms: "100" } });
  await waitForTask(orch.tasks, "block", (t) => t.state === "running");
  for (const [id, priority] of [["low1", 0], ["high1", 10], ["low2", 0], ["high2", 10]] as const) {
    orch.tasks.submit({ id, class: "cpu_long", priority, payload: { task_type: "noop" } });
  }
  for (const id of ["low1", "high1", "low2", "high2"]) await waitForTask(orch.tasks, id);
  const order = orch.tasks.list({ class: "cpu_long" }).tasks
    .filter((t) => t.id !== "block")
    .sort((a, b) => a.startedAtMs - b.startedAtMs || a.revision - b.revision)
    .map((t) => t.id);
  const started = orch.events.replay({ types: ["task_started"] }).map((e) => e.resourceId).filter((id) =>
    id !== "block"
  );
  assertEquals(started, ["high1", "high2", "low1", "low2"]);
  assertEquals(order.length, 4);
});

Deno.test("gpu tasks wait with a reason when no GPU is detected", async () => {
  await using orch = await openTestOrchestrator();
  const { task } = orch.tasks.submit({ id: "g1", class: "gpu", payload: { task_type: "noop" } });
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(orch.tasks.get("g1").state, "pending");
  assertStringIncludes(task.waitingReason, "no GPU detected");
  assertEquals(orch.usage("gpu"), { capacity: 0, inUse: 0 });
});

Deno.test("a task with not_before waits until then", async () => {
  await using orch = await openTestOrchestrator();
  const at = Date.now() + 300;
  orch.tasks.submit({ id: "nb", notBeforeMs: at, payload: { task_type: "noop" } });
  const done = await waitForTask(orch.tasks, "nb");
  assert(done.startedAtMs >= at, `started ${at - done.startedAtMs} ms early`);
});

Deno.test("tasks left running by a killed daemon are requeued without spending attempts; at-most-once ones fail", async () => {
  await using dir = await tempStateDir();
  const stateDir = dir.path;
  {
    const orch = await openTestOrchestrator({ stateDir, classes: { cpu_long: { concurrency: 2 } } });
    orch.tasks.submit({
      id: "k1",
      class: "cpu_long",
      maxAttempts: 1,
      payload: { task_type: "sleep", sleep_ms: "60000" },
    });
    orch.tasks.submit({
      id: "k2",
      class: "cpu_long",
      atMostOnce: true,
      payload: { task_type: "sleep", sleep_ms: "60000" },
    });
    await waitForTask(orch.tasks, "k2", (t) => t.state === "running");
    await waitForTask(orch.tasks, "k1", (t) => t.state === "running");
    // Simulate a kill: close the database under the running tasks, no clean stop.
    orch.db.close();
  }
  await using orch = await openTestOrchestrator({ stateDir, classes: { cpu_long: { concurrency: 2 } } });
  const k1 = orch.tasks.get("k1");
  assert(k1.state === "pending" || k1.state === "running", k1.state);
  assertEquals(k1.interruptions, 1);
  const k2 = orch.tasks.get("k2");
  assertEquals(k2.state, "failed");
  assertStringIncludes(k2.error, "at-most-once");
  const interrupted = orch.events.replay({ types: ["task_interrupted"] }).map((e) => e.resourceId);
  assertEquals(interrupted, ["k1"]);
  orch.tasks.cancel("k1");
});

Deno.test("a clean stop gives running tasks back without counting the attempt", async () => {
  await using dir = await tempStateDir();
  const stateDir = dir.path;
  {
    await using orch = await openTestOrchestrator({ stateDir });
    orch.tasks.submit({ id: "z1", payload: { task_type: "sleep", sleep_ms: "60000" } });
    await waitForTask(orch.tasks, "z1", (t) => t.state === "running");
  }
  await using orch = await openTestOrchestrator({ stateDir });
  const z1 = await waitForTask(orch.tasks, "z1", (t) => t.state === "running");
  assertEquals(z1.attempts, 1);
  orch.tasks.cancel("z1");
});

Deno.test("a class whose tasks keep failing gets a lower concurrency limit, reported in metrics", async () => {
  await using orch = await openTestOrchestrator();
  assertEquals(orch.usage("cpu_short").capacity, 4);
  const ids = Array.from({ length: 40 }, (_, i) => `bad${i}`);
  for (const id of ids) orch.tasks.submit({ id, payload: { task_type: "fail" } });
  for (const id of ids) await waitForTask(orch.tasks, id);
  const limit = orch.usage("cpu_short").capacity;
  assert(limit < 4 && limit >= 1, `limit ${limit}`);
  assertEquals(orch.metrics()["concurrency_limit.cpu_short"], limit);
  assertEquals(orch.metrics()["error_rate.cpu_short"], 1);
});

Deno.test("a deep, healthy queue raises the limit up to twice the host default", async () => {
  await using orch = await openTestOrchestrator();
  const ids = Array.from({ length: 300 }, (_, i) => `ok${i}`);
  for (const id of ids) orch.tasks.submit({ id, payload: { task_type: "noop" } });
  for (const id of ids) await waitForTask(orch.tasks, id);
  const limit = orch.usage("cpu_short").capacity;
  assert(limit > 4 && limit <= 8, `limit ${limit}`);
});

Deno.test("TaskService.prune() deletes finished tasks past retention; workflow steps and waiting tasks stay", async () => {
  let clock = Date.now();
  await using orch = await openTestOrchestrator({ now: () => clock, taskRetentionMs: 0 });
  orch.tasks.submit({ id: "old", payload: { task_type: "noop" } });
  orch.tasks.submit({ id: "step", payload: { task_type: "noop" }, workflowId: "wf-1" });
  orch.tasks.submit({ id: "waits", class: "gpu", payload: { task_type: "noop" } }); // no GPU here: it waits
  await waitForTask(orch.tasks, "old");
  await waitForTask(orch.tasks, "step");
  const completedBefore = orch.tasks.counts().completed;

  assertEquals(orch.tasks.prune(7 * 24 * 3600_000), 0, "nothing is past retention yet");
  clock += 8 * 24 * 3600_000;
  orch.tasks.submit({ id: "new", payload: { task_type: "noop" } });
  await waitForTask(orch.tasks, "new");
  assertEquals(orch.tasks.prune(7 * 24 * 3600_000), 1);
  await orch.flushed();

  assertThrows(() => orch.tasks.get("old"), TaskNotFoundError);
  assertEquals(orch.tasks.get("step").state, "completed");
  assertEquals(orch.tasks.get("waits").state, "pending");
  assertEquals(orch.tasks.get("new").state, "completed");
  assertEquals(orch.tasks.counts().completed, completedBefore, "one deleted, one new");
  // The id is free again.
  assert(orch.tasks.submit({ id: "old", payload: { task_type: "noop" } }).created);
});
