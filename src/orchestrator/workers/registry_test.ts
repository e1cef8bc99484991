/**
 * The worker registry's rules on a hand-driven clock: routing by type, labels and free slots, fairness across
 * workers, leases that expire without heartbeats, silent workers passed over, and late reports refused.
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../../tests/support/assert.ts";
import { AttemptInterruptedError, TaskExecutionError } from "../errors.ts";
import type { Task } from "../task.ts";
import { type WorkerPush, WorkerRegistry } from "./registry.ts";

function task(id: string, taskType: string, labels: Record<string, string> = {}): Task {
  return {
    id,
    class: "cpu_short",
    state: "running",
    priority: 0,
    rawPayload: {},
    payload: { task_type: taskType, n: 1 },
    result: {},
    error: "",
    attempts: 1,
    maxAttempts: 3,
    interruptions: 0,
    maxInterruptions: 3,
    timeoutSeconds: 0,
    workflowId: "",
    labels,
    createdAtMs: 0,
    startedAtMs: 0,
    finishedAtMs: 0,
    notBeforeMs: 0,
    waitingReason: "",
    revision: 1,
  };
}

/** A registry on a clock the test moves, and helpers to connect workers and read what they were pushed. */
function harness(leaseMs = 10_000) {
  let now = 1_000_000;
  const registry = new WorkerRegistry({ leaseMs, now: () => now });
  const streams = new AbortController();
  const pushed = new Map<string, WorkerPush[]>();
  const connect = (name: string, slots: number, taskTypes = ["square"], labels: Record<string, string> = {}) => {
    const id = registry.register({ name, taskTypes, slots, labels, address: "127.0.0.1", clientVersion: "test" });
    const seen: WorkerPush[] = [];
    pushed.set(name, seen);
    (async () => {
      for await (const push of registry.listen(id, streams.signal)) seen.push(push);
    })().catch(() => {});
    return id;
  };
  return {
    registry,
    connect,
    pushed: (name: string) => pushed.get(name)!,
    advance: (ms: number) => (now += ms),
    [Symbol.dispose]() {
      streams.abort();
      registry.close();
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function assignments(pushes: WorkerPush[]) {
  return pushes.flatMap((p) => p.kind === "assignment" ? [p] : []);
}

Deno.test("WorkerRegistry routes by type and required labels, never past a worker's free slots", async () => {
  using h = harness();
  const plain = h.connect("plain", 1);
  h.connect("gpu", 2, ["square"], { gpu: "1" });
  h.connect("other", 4, ["cube"]);
  await tick();
  const live = new AbortController();
  const runs = [
    h.registry.assign(task("t1", "square", { "worker.gpu": "1" }), live.signal),
    h.registry.assign(task("t2", "square", { "worker.gpu": "1" }), live.signal),
    h.registry.assign(task("t3", "square", { "worker.gpu": "1" }), live.signal),
  ];
  await tick();
  assertEquals(assignments(h.pushed("gpu")).map((a) => a.taskId), ["t1", "t2"]);
  assertEquals(assignments(h.pushed("plain")), []);
  assertEquals(assignments(h.pushed("other")), []);
  // A slot frees: the waiting third task goes to the same worker.
  const first = assignments(h.pushed("gpu"))[0];
  const gpuId = h.registry.list().find((w) => w.name === "gpu")!.workerId;
  assert(h.registry.complete(gpuId, "t1", first.leaseId, '{"value":1}'));
  assertEquals((await runs[0]).output, { value: 1 });
  await tick();
  assertEquals(assignments(h.pushed("gpu")).map((a) => a.taskId), ["t1", "t2", "t3"]);
  assertEquals(h.registry.handles(task("x", "square")), true);
  assertEquals(h.registry.handles(task("x", "unknown")), false);
  assert(plain);
  live.abort(new Error("test over"));
  await Promise.allSettled(runs);
});

Deno.test("WorkerRegistry spreads tasks fairly: the worker with the most free slots goes first", async () => {
  using h = harness();
  h.connect("a", 4);
  h.connect("b", 4);
  await tick();
  const live = new AbortController();
  const runs = Array.from({ length: 8 }, (_, i) => h.registry.assign(task(`t${i}`, "square"), live.signal));
  await tick();
  assertEquals(assignments(h.pushed("a")).length, 4);
  assertEquals(assignments(h.pushed("b")).length, 4);
  live.abort(new Error("test over"));
  await Promise.allSettled(runs);
});

Deno.test("WorkerRegistry: an expired lease interrupts the attempt, the silent worker gets no more tasks, and its late report is refused", async () => {
  using h = harness(2_000);
  const silentId = h.connect("silent", 1);
  await tick();
  const live = new AbortController();
  const first = h.registry.assign(task("t1", "square"), live.signal);
  await tick();
  const lease = assignments(h.pushed("silent"))[0];
  h.advance(2_001);
  // The lease clock runs on a timer of its own (a quarter of the lease, at most 1 s); wait for its next turn.
  await assertRejects(() => first, AttemptInterruptedError, "stopped renewing its lease");
  assertEquals(h.registry.list()[0].state, "silent");

  // The retry waits: the only worker is silent.
  const second = h.registry.assign(task("t1", "square"), live.signal);
  await tick();
  assertEquals(assignments(h.pushed("silent")).length, 1);
  // A late completion of the expired lease records nothing, and the heartbeat says the lease is lost.
  assertEquals(h.registry.complete(silentId, "t1", lease.leaseId, '{"late":true}'), false);
  assertEquals(h.registry.heartbeat(silentId, [lease.leaseId]), [lease.leaseId]);
  // Beating again, it is given the task anew under a new lease.
  await tick();
  const again = assignments(h.pushed("silent"));
  assertEquals(again.length, 2);
  assert(again[1].leaseId !== lease.leaseId);
  assertEquals(h.registry.list()[0].state, "connected");
  assert(h.registry.fail(silentId, "t1", again[1].leaseId, "boom", "ValueError"));
  await assertRejects(() => second, TaskExecutionError, "ValueError: boom");
});

Deno.test("WorkerRegistry: a cancel is pushed to the worker and ends the lease; a released lease interrupts", async () => {
  using h = harness();
  const id = h.connect("w", 2);
  await tick();
  const cancel = new AbortController();
  const cancelled = h.registry.assign(task("t1", "square"), cancel.signal);
  const released = h.registry.assign(task("t2", "square"), new AbortController().signal);
  await tick();
  cancel.abort(new Error("cancelled by the user"));
  await assertRejects(() => cancelled, Error, "cancelled by the user");
  await tick();
  const pushes = h.pushed("w");
  assertEquals(pushes.filter((p) => p.kind === "cancel").map((p) => p.taskId), ["t1"]);
  const t2 = assignments(pushes).find((a) => a.taskId === "t2")!;
  assert(h.registry.release(id, "t2", t2.leaseId, "stopping"));
  await assertRejects(() => released, AttemptInterruptedError, "gave the task back: stopping");
  assertEquals(h.registry.release(id, "t2", t2.leaseId, "again"), false);
});
